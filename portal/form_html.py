"""Django's plain widget templates written in Python, byte for byte, for the pages where speed counts.

A widget rendered through ``django/forms/widgets/input.html`` costs two template renders (the input and
its attributes); the public form has twenty. These functions give the same HTML from the widget's
context (``widget.get_context(...)["widget"]``). tests/tickets/test_public_form_markup.py compares them.
"""

from collections.abc import Iterable

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

INPUT_TEMPLATES = frozenset(
    f"django/forms/widgets/{kind}.html" for kind in ("text", "email", "checkbox", "url", "tel", "number", "password", "hidden")
)
TEXTAREA_TEMPLATE = "django/forms/widgets/textarea.html"


def joined(parts: Iterable[str]) -> SafeString:
    """Pieces of HTML end to end, each escaped unless it is already safe."""
    return format_html_join("", "{}", ((part,) for part in parts))


def attributes(attrs: dict) -> SafeString:
    """As django/forms/widgets/attrs.html writes them, in order (``flatatt`` would move the boolean ones last)."""
    return joined(
        format_html(" {}", name) if value is True else format_html(' {}="{}"', name, value)
        for name, value in attrs.items()
        if value is not False
    )


def input_html(widget: dict) -> SafeString:
    """django/forms/widgets/input.html."""
    value = widget["value"]
    shown = format_html(' value="{}"', value) if value is not None else ""
    return format_html('<input type="{}" name="{}"{}{}>', widget["type"], widget["name"], shown, attributes(widget["attrs"]))


def textarea_html(widget: dict) -> SafeString:
    """django/forms/widgets/textarea.html."""
    return format_html('<textarea name="{}"{}>\n{}</textarea>', widget["name"], attributes(widget["attrs"]), widget["value"] or "")


def widget_html(widget: dict) -> SafeString | None:
    """The widget's HTML if its template is one of those above, else None (render it as usual)."""
    template = widget.get("template_name")
    if template in INPUT_TEMPLATES:
        return input_html(widget)
    if template == TEXTAREA_TEMPLATE:
        return textarea_html(widget)
    return None
