"""One web node for tests/tickets/test_evidence_two_nodes.py: a process of its own, configured only by its
environment (settings, database, evidence storage, VAR_DIR), driven with Django's test client.

    python -m tests.tickets.web_node file NAME PATH   files a request through the public form with that file
    python -m tests.tickets.web_node open PATH        GETs PATH with the session cookie in PORTAL_SESSION

Prints one line of JSON: what the node stored or answered, and where its own PRIVATE_MEDIA_ROOT is.
"""

import base64
import json
import os
import sys
from pathlib import Path

import django

django.setup()

from django.conf import settings  # noqa: E402  (after django.setup(): this is a script)
from django.core.files.uploadedfile import SimpleUploadedFile  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402

from tests.helpers import submit  # noqa: E402
from tickets.models import ServiceRequest  # noqa: E402


def file_request(name, path):
    response = submit(Client(), files=[SimpleUploadedFile(name, Path(path).read_bytes(), content_type="application/pdf")])
    sr = ServiceRequest.objects.latest("pk")
    return {"status": response.status_code, "evidence": [{"id": e.pk, "key": e.file.name} for e in sr.evidence.all()]}


def open_path(path):
    client = Client(raise_request_exception=False)
    client.cookies[settings.SESSION_COOKIE_NAME] = os.environ["PORTAL_SESSION"]
    response = client.get(path)
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return {"status": response.status_code, "headers": dict(response.headers), "body": base64.b64encode(body).decode()}


if __name__ == "__main__":
    setup_test_environment()
    command, *args = sys.argv[1:]
    result = {"file": file_request, "open": open_path}[command](*args)
    result["node"] = {
        "private_media_root": str(settings.PRIVATE_MEDIA_ROOT),
        "evidence_backend": settings.STORAGES["evidence"]["BACKEND"],
    }
    print(json.dumps(result))
