"""The country <select> of the public form, without a template render per option, and its field's check.

Django renders each of the ~250 options through its own template include: half the CPU of the public
form's page. The options depend only on the language (django-countries translates and sorts them), so
they are rendered once per language and process, with no option selected, and the chosen value is then
marked with one string replacement. The markup is the one Django's ``Select`` renders, byte for byte
(``tests/tickets/test_public_form_markup.py`` compares them).
"""

from django import forms
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import get_language
from django_countries.fields import LazyTypedChoiceField  # type: ignore[attr-defined]  # not in its stubs

from portal import form_html

# language -> (the options as Django renders them, none selected; their values)
_OPTIONS: dict[str, tuple[str, frozenset[str]]] = {}


def _option(value: str, label: str) -> str:
    return format_html('\n  <option value="{}">{}</option>\n', value, label)


class CountrySelect(forms.Select):
    """A ``Select`` for a CountryField's choices, which depend on nothing but the active language."""

    def _options(self) -> tuple[str, frozenset[str]]:
        language = get_language() or ""
        cached = _OPTIONS.get(language)
        if cached is None:
            choices = [(str(value), str(label)) for value, label in self.choices]
            html = form_html.joined(_option(value, label) for value, label in choices)
            cached = _OPTIONS[language] = (html, frozenset(value for value, _ in choices))
        return cached

    def use_required_attribute(self, initial):
        # As Django's Select decides it (the first option is the blank one), without building the choices.
        return super(forms.Select, self).use_required_attribute(initial) and "" in self._options()[1]

    def render(self, name, value, attrs=None, renderer=None):
        html, values = self._options()
        # As Django's Select: the option whose value is the (single) value is selected; no value selects the blank one.
        chosen = self.format_value(value)
        if chosen and chosen[0] in values:
            plain = _option(chosen[0], "")[: -len("></option>\n")]
            html = html.replace(plain + ">", plain + " selected>", 1)
        # html: escaped options (format_html) with " selected" added to one of them.
        attributes = form_html.attributes(self.build_attrs(self.attrs, attrs))
        return format_html('<select name="{}"{}>{}\n</select>', name, attributes, SafeString(html))


class CountryChoiceField(LazyTypedChoiceField):
    """django-countries' form field, checking a posted code against the cached options of ``CountrySelect``
    (its own check walks the ~250 translated, sorted choices for every filing)."""

    widget = CountrySelect

    def valid_value(self, value):
        if isinstance(self.widget, CountrySelect):
            return str(value) in self.widget._options()[1]
        return super().valid_value(value)
