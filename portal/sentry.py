"""Optional error reporting to Sentry, started by the production settings only when SENTRY_DSN is set.

What leaves the machine is an error's type, message and stack, with the URL pattern that failed: no
personal data (``send_default_pii=False``, no request bodies, no local variables), and :func:`before_send`
strips what would still carry a token or a session: query strings (tracking, confirmation and objection
links carry their tokens there), cookies, and the headers that hold either.
"""

from typing import Any, cast
from urllib.parse import urlsplit, urlunsplit

import sentry_sdk
from sentry_sdk.types import Event, Hint

from .logs import path_for_logs

# Headers that can hold a session, a credential or a URL with its query string.
_DROPPED_HEADERS = {"cookie", "authorization", "proxy-authorization", "referer", "x-csrftoken"}


def _without_query(url: Any) -> Any:
    if not isinstance(url, str):
        return url
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, path_for_logs(parts.path), "", ""))


def before_send(event: Event, hint: Hint) -> Event:
    """Sentry's last look at an event (errors and, if traced, transactions): scrubbed in place, then sent."""
    _scrub(cast(dict[str, Any], event))
    return event


def _scrub(event: dict[str, Any]) -> None:
    request = event.get("request")
    if isinstance(request, dict):
        request.pop("query_string", None)
        request.pop("cookies", None)
        request.pop("data", None)
        if "url" in request:
            request["url"] = _without_query(request["url"])
        headers = request.get("headers")
        if isinstance(headers, dict):
            request["headers"] = {k: v for k, v in headers.items() if k.lower() not in _DROPPED_HEADERS}
    breadcrumbs = event.get("breadcrumbs")
    values = breadcrumbs.get("values") if isinstance(breadcrumbs, dict) else breadcrumbs
    for crumb in values if isinstance(values, list) else []:
        data = crumb.get("data") if isinstance(crumb, dict) else None
        if isinstance(data, dict):
            data.pop("http.query", None)
            if "url" in data:
                data["url"] = _without_query(data["url"])


def sentry_init(*, dsn: str, environment: str, traces_sample_rate: float) -> None:
    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        send_default_pii=False,
        max_request_body_size="never",  # form bodies hold names, emails and phone numbers
        include_local_variables=False,  # a frame's variables may hold a token or a person's details
        traces_sample_rate=traces_sample_rate,
        before_send=before_send,
        before_send_transaction=before_send,
    )
