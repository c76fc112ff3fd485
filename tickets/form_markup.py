"""The requesters' form fields, with the markup of crispy-forms' Bootstrap 5 pack, written in Python.

crispy renders each field through half a dozen nested templates, about a fifth of the public form's CPU.
The public pages render their fields here instead, with the same markup: the label (a legend in a
fieldset for a multi-part field), the asterisk of a required field, the widget with crispy's classes,
``is-invalid`` and ``aria-describedby``, the errors right under the field, then its help text.
``tests/tickets/test_public_form_markup.py`` compares each field with crispy's rendering; a widget kind
not written here (radio buttons, a file already uploaded) is left to crispy.
"""

from crispy_forms.templatetags.crispy_forms_filters import as_crispy_field
from django import forms
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language

from portal.form_html import INPUT_TEMPLATES, TEXTAREA_TEMPLATE, attributes, joined, widget_html

REQUIRED = format_html('<span class="asteriskField">{}</span>', "*")


def _widget(bf: forms.BoundField) -> SafeString:
    """``str(bf)``, without a template render for the plain inputs and text areas."""
    widget = bf.field.widget
    template = getattr(widget, "template_name", None)
    plain = template in INPUT_TEMPLATES or template == TEXTAREA_TEMPLATE
    if plain and type(widget).render is forms.Widget.render and not bf.field.localize:
        attrs = bf.build_widget_attrs({}, widget)
        if bf.auto_id and "id" not in widget.attrs:
            attrs.setdefault("id", bf.auto_id)
        html = widget_html(widget.get_context(bf.html_name, bf.value(), attrs)["widget"])
        if html is not None:
            return html
    return bf.as_widget()


def _with_classes(bf: forms.BoundField, classes: str) -> SafeString:
    """The widget, after adding the classes crispy's ``crispy_field`` adds (its class name, then ``classes``)."""
    widget = bf.field.widget
    for part in getattr(widget, "widgets", [getattr(widget, "widget", widget)]):
        class_name = part.__class__.__name__.lower()
        css = part.attrs.get("class", "")
        css = (css if class_name in css else f"{css} {class_name}") if css else class_name
        for name in classes.split():
            if name not in css.split():
                css += " " + name
        part.attrs["class"] = css
    return _widget(bf)


def _errors(bf: forms.BoundField, inline: bool) -> SafeString | str:
    if not bf.errors:
        return ""
    tag = "span" if inline else "p"
    items = format_html_join(
        "", '<{} id="error_{}_{}"><strong>{}</strong></{}>', ((tag, n, bf.auto_id, e, tag) for n, e in enumerate(bf.errors, 1))
    )
    return format_html('<div id="{}_error" class="invalid-feedback">{}</div>', getattr(bf.errors, "field_id", None), items)


def _help(bf: forms.BoundField) -> SafeString | str:
    if not bf.help_text:
        return ""
    # Help texts are the developers' own, shown unescaped as crispy does (``{{ field.help_text|safe }}``).
    text = mark_safe(bf.help_text)  # noqa: S308
    if bf.auto_id:
        return format_html('<div id="{}_helptext" class="form-text">{}</div>', bf.auto_id, text)
    return format_html('<div class="form-text">{}</div>', text)


def _label(bf: forms.BoundField, tag: str) -> SafeString:
    target = format_html('for="{}" ', bf.id_for_label) if bf.id_for_label else ""
    return format_html(
        '<{} {}class="form-label{}{}">{}{}</{}>',
        tag,
        target,
        " requiredField" if bf.field.required else "",
        " fs-6" if tag == "legend" else "",
        bf.label,
        REQUIRED if bf.field.required else "",
        tag,
    )


def _supported(bf: forms.BoundField) -> bool:
    widget = bf.field.widget
    if isinstance(widget, (forms.RadioSelect, forms.CheckboxSelectMultiple)):
        return False
    if isinstance(widget, forms.FileInput):
        return not any(sub.data.get("is_initial") for sub in bf.subwidgets)
    return True


def _file_inputs(bf: forms.BoundField, inline_errors: bool) -> SafeString:
    """crispy-bootstrap5's layout/field_file.html, for a file input with nothing uploaded yet."""
    invalid = " is-invalid" if bf.errors else ""
    parts = []
    for sub in bf.subwidgets:
        own = sub.data["attrs"].get("class")
        parts.append(
            format_html(
                '<div{}><input type="{}" name="{}" class="form-control{}{}"{}{}>{}{}</div>',
                format_html(' class="{}"', "is-invalid") if bf.errors else "",
                sub.data["type"],
                sub.data["name"],
                f" {own}" if own else "",
                invalid,
                format_html(" {}", "disabled") if bf.field.disabled else "",
                attributes({name: value for name, value in sub.data["attrs"].items() if name != "class"}),
                _errors(bf, inline_errors),
                _help(bf),
            )
        )
    return joined(parts)


# An empty form's fields look the same on every GET in one language: each is written once per process.
# Keyed by form class, the form's own ``markup_cache_key()`` (what changes its fields, e.g. the category),
# field, prefix, language and error style; a few dozen entries at most.
_EMPTY_FIELDS: dict[tuple, SafeString] = {}


def bootstrap_field(bf: forms.BoundField, inline_errors: bool = False) -> SafeString:
    """One field as crispy-bootstrap5's ``field.html`` renders it in a plain vertical form: with
    ``inline_errors``, as ``{% crispy form %}`` does (each error in a span), else as ``|crispy`` (in a p).

    A field of an empty form (not bound, no initial values) whose form says what its fields depend on
    (``markup_cache_key``) and whose widget does not change per request (the CAPTCHA does: ``per_request``)
    is written once per language and process, then reused.
    """
    form = bf.form
    key_of = getattr(form, "markup_cache_key", None)
    if key_of is None or form.is_bound or form.initial or getattr(bf.field.widget, "per_request", False):
        return _bootstrap_field(bf, inline_errors)
    key = (type(form), key_of(), bf.name, form.prefix, get_language(), inline_errors)
    html = _EMPTY_FIELDS.get(key)
    if html is None:
        html = _EMPTY_FIELDS[key] = _bootstrap_field(bf, inline_errors)
    return html


def _bootstrap_field(bf: forms.BoundField, inline_errors: bool) -> SafeString:
    if bf.is_hidden:
        return bf.as_widget()
    if not _supported(bf):
        return as_crispy_field(bf)
    invalid = " is-invalid" if bf.errors else ""
    css_classes = bf.css_classes()
    extra = f" {css_classes}" if css_classes else ""
    widget = bf.field.widget
    if isinstance(widget, forms.CheckboxInput):
        return format_html(
            '<div class="mb-3"><div id="div_{}" class="form-check{}">{}{}{}{}</div></div>',
            bf.auto_id,
            extra,
            _with_classes(bf, "form-check-input" + invalid),
            format_html(
                '<label for="{}" class="form-check-label{}">{}{}</label>',
                bf.id_for_label,
                " requiredField" if bf.field.required else "",
                bf.label,
                REQUIRED if bf.field.required else "",
            ),
            _errors(bf, inline_errors),
            _help(bf),
        )
    parts: list[str] = []
    fieldset = bf.use_fieldset and bf.label
    if fieldset:
        parts.append(
            format_html("<fieldset{}>", format_html(' aria-describedby="{}"', bf.aria_describedby) if bf.aria_describedby else "")
        )
        parts.append(_label(bf, "legend"))
    elif bf.label:
        parts.append(_label(bf, "label"))
    if isinstance(widget, forms.FileInput):
        parts.append(_file_inputs(bf, inline_errors))
    else:
        kind = "form-select" if isinstance(widget, forms.Select) else "form-control"
        parts += [_with_classes(bf, kind + invalid), _errors(bf, inline_errors), _help(bf)]
    if fieldset:
        parts.append(format_html("</{}>", "fieldset"))
    return format_html('<div id="div_{}" class="mb-3{}">{}</div>', bf.auto_id, extra, joined(parts))
