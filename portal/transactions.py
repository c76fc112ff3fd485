"""Transactions for services whose refusals must still commit what they counted."""

import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from django.db import transaction

from portal.errors import DomainError

P = ParamSpec("P")
T = TypeVar("T")


def commit_then_raise(service: Callable[P, T | DomainError]) -> Callable[P, T]:
    """``transaction.atomic`` for a service that counts failures: a refusal commits, then raises.

    The decorated function *returns* its DomainError instead of raising it. The transaction then
    commits what was written on the way to the refusal (django-otp's throttling counter after a
    wrong token, a wrong-code count), and the error is raised after the commit. Raised inside the
    transaction, it would roll those counters back, and a guesser could try again at once, for ever.

    Call such a service outside any transaction (``ATOMIC_REQUESTS`` is off): an enclosing
    transaction that the error propagates through would roll the counters back all the same.
    """
    atomic_service = transaction.atomic(service)

    @functools.wraps(service)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        result = atomic_service(*args, **kwargs)
        if isinstance(result, DomainError):
            raise result
        return result

    return wrapper
