"""Country names by code, per language, built once per process (django-countries sorts and translates ~250)."""

from django.utils.translation import get_language
from django_countries import countries

_NAMES: dict[str, dict[str, str]] = {}


def country_names() -> dict[str, str]:
    """Code -> name in the active language. A ``Country`` object costs a look-up in the settings per row."""
    language = get_language() or ""
    names = _NAMES.get(language)
    if names is None:
        names = _NAMES[language] = {code: str(name) for code, name in countries}
    return names
