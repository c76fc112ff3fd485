from django.db import connection
from django.http import JsonResponse
from django.shortcuts import render

from portal.celery import app as celery_app


def home(request):
    return render(request, "home.html")


def healthz(request):
    """200 with {"database": "ok", "broker": "ok"}; 503 naming whichever does not answer."""
    result = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        result["database"] = "ok"
    except Exception as exc:  # noqa: BLE001  (any driver error means "down" here)
        result["database"] = f"error: {exc.__class__.__name__}"
    try:
        with celery_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
        result["broker"] = "ok"
    except Exception as exc:  # noqa: BLE001  (kombu raises several unrelated types when the broker is away)
        result["broker"] = f"error: {exc.__class__.__name__}"
    healthy = all(v == "ok" for v in result.values())
    return JsonResponse(result, status=200 if healthy else 503)
