"""Failures counted in the shared cache by django-ratelimit, and answers that take the same time.

django-ratelimit counts in fixed windows. A throttle here is a list of rates, each a step of a growing
delay: ``("5/5m", "10/h", "20/d")`` lets 5 failures through, then makes the next try wait for the end of
the 5-minute window; after 10 in the hour, for the end of the hour; after 20 in the day, for the end of
the day. Only failures are counted (``failure_counted``), and what is counted is the caller's ``value``
(an account and a client network, say), never a bare account: a stranger elsewhere cannot slow its owner.
"""

import functools
import ipaddress
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import ParamSpec, TypeVar

from django_ratelimit.core import get_usage

P = ParamSpec("P")
T = TypeVar("T")


def client_network(ip: str | None) -> str:
    """The client's address as the throttles count it: an IPv6 client by its /64 (one household or
    server can use all of it), an IPv4 client by its address."""
    if not ip:
        return "-"
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return "-"
    if address.version == 6:
        return str(ipaddress.ip_network(f"{address}/64", strict=False).network_address)
    return str(address)


def _usage(group: str, value: str, rate: str, *, increment: bool) -> dict | None:
    # No request: the key is the value itself and every method counts, so django-ratelimit never reads one.
    return get_usage(None, group=group, key=lambda _group, _request: value, rate=rate, increment=increment)


def failures_exhausted(*, group: str, value: str, rates: Sequence[str]) -> bool:
    """Whether ``value`` has as many failures as one of ``rates`` allows in its current window.

    Fails closed: when the cache cannot answer, django-ratelimit reports a limit of 0, which is reached.
    """
    for rate in rates:
        usage = _usage(group, value, rate, increment=False)
        if usage is not None and usage["count"] >= usage["limit"]:
            return True
    return False


def failure_counted(*, group: str, value: str, rates: Sequence[str]) -> None:
    """Count one failure of ``value`` in each of ``rates``."""
    for rate in rates:
        _usage(group, value, rate, increment=True)


@contextmanager
def taking_at_least(seconds: float) -> Iterator[None]:
    """Run the block, then wait until it has taken ``seconds`` in all (also when it raises).

    For answers that must not tell one case from another by their time: the block's own work differs
    (a database write for an existing account, none for a missing one), its duration does not. Choose
    ``seconds`` well above the block's slowest usual time; a block slower than that is not padded.
    """
    started = time.perf_counter()
    try:
        yield
    finally:
        left = seconds - (time.perf_counter() - started)
        if left > 0:
            time.sleep(left)


def answered_in_at_least(seconds: float) -> Callable[[Callable[P, T]], Callable[P, T]]:
    """``taking_at_least`` for a whole service call, its commit (and what runs on commit) included."""

    def decorate(service: Callable[P, T]) -> Callable[P, T]:
        @functools.wraps(service)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
            with taking_at_least(seconds):
                return service(*args, **kwargs)

        return wrapper

    return decorate
