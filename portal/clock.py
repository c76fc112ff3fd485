"""The one source of "now" for business rules, so that tests can move time without mocks."""

from contextlib import contextmanager
from datetime import timedelta

from django.utils import timezone

_offset = timedelta(0)


def now():
    return timezone.now() + _offset


@contextmanager
def travel(delta: timedelta):
    """Shift business time forward by ``delta`` inside the block (used by tests and demo data)."""
    global _offset
    previous = _offset
    _offset = previous + delta
    try:
        yield
    finally:
        _offset = previous
