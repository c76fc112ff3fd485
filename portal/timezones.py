"""Reader's time zones: times are stored in UTC and shown in the zone of whoever reads them.

Staff and tenant users choose theirs (``User.time_zone``); a requester's is the one their browser gave
when they filed (``ServiceRequest.time_zone``), UTC when it gave none.
"""

import zoneinfo
from functools import lru_cache

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


@lru_cache(maxsize=1)
def zone_names() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def validate_time_zone(value: str) -> None:
    if value and value not in zone_names():
        raise ValidationError(_("Unknown time zone: %(zone)s."), params={"zone": value})


def clean_zone(value: str | None) -> str:
    """``value`` if it is a known IANA zone, else "" (what a browser sends is not trusted)."""
    value = (value or "").strip()[:64]
    return value if value in zone_names() else ""


def activate(name: str | None) -> None:
    """Show times in ``name`` for the rest of the request; UTC when it is empty or unknown."""
    name = clean_zone(name)
    if name:
        timezone.activate(zoneinfo.ZoneInfo(name))
    else:
        timezone.deactivate()


class UserTimeZoneMiddleware:
    """Signed-in people read times in the zone they chose; everyone else in UTC (the tracking page sets the
    requester's own)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        activate(getattr(user, "time_zone", "") if user is not None and user.is_authenticated else "")
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
