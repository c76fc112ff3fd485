"""Every request gets an id: on the response, in each of its log lines, and in one line of its own."""

import logging
import re
import time
import uuid

from django.core.signals import request_finished

from .logs import path_for_logs, request_id

logger = logging.getLogger("portal.request")

HEADER = "X-Request-ID"
# A proxy's or load balancer's id is kept when it is short and plain; anything else is replaced, so that a
# client cannot write what it likes into the logs.
VALID = re.compile(r"[A-Za-z0-9._-]{1,64}")


class RequestIdMiddleware:
    """Takes a valid incoming X-Request-ID or makes one; sends it back and logs the request once.

    First in MIDDLEWARE, so that the redirects and refusals of the middleware below carry it too. The id
    stays set until the response is closed (``request_finished``): Django logs a 4xx or 5xx response
    after the last middleware returns, and the server writes its access line, in the same context.

    The line names the URL pattern (``account/set-password/<uidb64>/<token>/``), not the path, and never
    the query string; no address, no user agent.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get(HEADER, "")
        value = incoming if VALID.fullmatch(incoming) else uuid.uuid4().hex
        request_id.set(value)
        started = time.monotonic()
        response = self.get_response(request)
        response[HEADER] = value
        match = getattr(request, "resolver_match", None)
        logger.info(
            "%s %s %s",
            request.method,
            match.route if match else path_for_logs(request.path),
            response.status_code,
            extra={"status": response.status_code, "duration_ms": round((time.monotonic() - started) * 1000, 1)},
        )
        return response


def _forget_request_id(**kwargs):
    request_id.set("-")


request_finished.connect(_forget_request_id, dispatch_uid="portal.middleware.forget_request_id")
