"""What the health endpoints check, each bounded in time: a probe answers, it never hangs.

Each check runs in a thread of its own and all run at once; a check that has not answered after
``HEALTH_CHECK_TIMEOUT`` seconds counts as failed ("timeout"), and the thread is left to finish on its
own (a daemon: it never holds up a worker's exit). A thread has its own database connection, closed when
the check ends, so a probe never leaves a connection behind nor touches the one serving requests.
"""

import logging
import threading
import time
from collections.abc import Callable

from django.conf import settings
from django.db import connection
from django.http import HttpRequest
from django.template.loader import render_to_string

from .celery import app as celery_app
from .logs import request_id

logger = logging.getLogger(__name__)

OK = "ok"


def database() -> None:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    finally:
        connection.close()


def broker() -> None:
    with celery_app.connection_for_write() as conn:
        # One try, no pause before a second: a refused connection is reported as such, not as a timeout.
        conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=settings.HEALTH_CHECK_TIMEOUT)


def page() -> None:
    """The layout every page extends renders: templates load, URLs reverse, and each static file it names
    resolves through the static storage. In production that storage is whitenoise's manifest: without a
    ``collectstatic`` (or with a stale one) this raises, as every HTML page would answer 500."""
    render_to_string("base.html", request=HttpRequest())


def run(checks: dict[str, Callable[[], None]]) -> dict[str, str]:
    """``{name: "ok" | "error: <ExceptionClass>" | "timeout"}``, in at most about HEALTH_CHECK_TIMEOUT seconds."""
    results: dict[str, str] = {}
    current_request_id = request_id.get()

    def target(name: str, check: Callable[[], None]) -> None:
        # A new thread starts with an empty context, on purpose: Django keeps database connections per
        # context, and this one must be the thread's own. The request id is carried over by hand.
        request_id.set(current_request_id)
        try:
            check()
            results[name] = OK
        except Exception as exc:  # noqa: BLE001  (any failure means "not ready"; the reason goes to the log)
            logger.warning("health check %s failed", name, exc_info=True)
            results[name] = f"error: {exc.__class__.__name__}"

    threads = {
        name: threading.Thread(target=target, args=(name, check), name=f"health-{name}", daemon=True) for name, check in checks.items()
    }
    for thread in threads.values():
        thread.start()
    deadline = time.monotonic() + settings.HEALTH_CHECK_TIMEOUT
    for thread in threads.values():
        thread.join(max(0.0, deadline - time.monotonic()))
    # Read once: a late thread must not change the answer while it is being built.
    return {name: results.get(name, "timeout") for name in checks}
