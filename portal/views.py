from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.csrf import csrf_failure as django_csrf_failure

from . import health
from .uploads import body_refused


def home(request):
    return render(request, "home.html")


def _report(checks):
    result = health.run(checks)
    healthy = all(v == health.OK for v in result.values())
    return JsonResponse(result, status=200 if healthy else 503)


def healthz(request):
    """200 with {"database": "ok", "broker": "ok"}; 503 naming whichever does not answer in time."""
    return _report({"database": health.database, "broker": health.broker})


def livez(request):
    """Liveness: the process answers HTTP. No I/O, so a database or broker outage never restarts it."""
    return HttpResponse("ok", content_type="text/plain")


def readyz(request):
    """Readiness: database, broker, and a page renders (templates and the static files' manifest).

    200 with {"database": "ok", "broker": "ok", "page": "ok"}; 503 naming what fails. What a load balancer
    asks before sending traffic (docs/operations.md).
    """
    return _report({"database": health.database, "broker": health.broker, "page": health.page})


def csrf_failure(request, reason=""):
    """A request whose body was too large was not read at all, so its CSRF token was not read either:
    say what happened (413) instead of a confusing CSRF error. Any other failure is Django's 403."""
    if body_refused(request):
        return upload_too_large(request)
    return django_csrf_failure(request, reason=reason)


def upload_too_large(request):
    limit = settings.REQUEST_BODY_MAX_BYTES // (1024 * 1024)
    return render(request, "portal/upload_too_large.html", {"limit": limit}, status=413)
