"""Production logs: one JSON object per line, each carrying the id of the request it belongs to.

``RequestIdMiddleware`` (portal/middleware.py) puts the id in :data:`request_id` while a request is
served; :class:`RequestIdFilter` copies it onto every record. Nothing here logs a query string (the
tracking, confirmation and objection links carry their tokens there) or personal data.
"""

import logging
import re
from contextvars import ContextVar

from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter as _JsonFormatter

# "-" outside a request: a worker's start-up, a management command.
request_id: ContextVar[str] = ContextVar("request_id", default="-")


_SECRETS = [
    # The set-password link of the "you are now global admin" email holds Django's token in its path
    # (/account/set-password/<uidb64>/<token>/, accounts/urls.py), valid until used.
    (re.compile(r"(/account/set-password/)[^/\s]+/[^/\s'\"]+"), r"\1-/-"),
    # A query string after a path or URL: tracking, confirmation and objection links carry tokens there.
    (re.compile(r"(?<=[\w/])\?[^\s'\"<>]+"), "?-"),
]


def redact(text: str) -> str:
    """``text`` without the tokens a URL can carry: a query string becomes ``?-``, a path's token ``-``."""
    for pattern, replacement in _SECRETS:
        text = pattern.sub(replacement, text)
    return text


def path_for_logs(path: str) -> str:
    """A request's path as logs may show it: redacted, and short."""
    return redact(path)[:200]


class RequestIdFilter(logging.Filter):
    """Adds ``request_id`` to every record that passes (set on a handler, it sees every logger's records)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get()
        return True


class JsonFormatter(_JsonFormatter):
    """python-json-logger's formatter, which never writes the ``request`` Django attaches to its records.

    ``django.request`` logs every 4xx and 5xx with ``extra={"request": request}``; the JSON formatter would
    write that object as ``str(request)``, which is ``<WSGIRequest: GET '/path?token=...'>``: the query
    string, tokens and all.

    Messages and tracebacks are redacted (:func:`redact`) as a last guard: ``django.request`` names the
    path ("Not Found: /account/set-password/<uidb64>/<token>/"), a library may name a URL.
    """

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("reserved_attrs", [*RESERVED_ATTRS, "request"])
        super().__init__(*args, **kwargs)

    def process_log_record(self, log_data):
        for key in ("message", "exc_info"):
            if isinstance(log_data.get(key), str):
                log_data[key] = redact(log_data[key])
        return log_data


# The settings' LOGGING and gunicorn.conf.py's logconfig_dict share these.
JSON_FORMATTER = {
    "()": "portal.logs.JsonFormatter",
    "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s",
    "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
}
