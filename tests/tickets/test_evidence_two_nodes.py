"""Two web nodes on different machines: a file uploaded through one is opened by staff through the other.

Each node is a process of its own (tests/tickets/web_node.py) with its own, empty VAR_DIR (so its own
PRIVATE_MEDIA_ROOT) and its own in-memory cache: the nodes share only the database and, with
EVIDENCE_STORAGE=s3, the S3 endpoint (moto's server in this process, tests/s3.py). The staff member signs
in here, a third process: the session is in the database, so node B knows him.
"""

import base64
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django.urls import reverse

from audit.models import AuditEvent
from tests import factories
from tests.conftest import staff_client
from tests.helpers import PDF_BYTES
from tickets.models import Evidence

pytestmark = pytest.mark.django_db(transaction=True)  # the nodes see only what is committed

REPO = Path(__file__).resolve().parents[2]
PASSPORT = PDF_BYTES + b"% passport of Claire Martin, number 12AB34567\n"


def _test_database_url():
    """The test database pytest-django created, not the one in the caller's TEST_DATABASE_URL."""
    s = connection.settings_dict
    return f"postgres://{quote(s['USER'])}:{quote(s['PASSWORD'] or '')}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


class Node:
    """A web node: its own process each time it is asked something, its own machine's folders."""

    def __init__(self, name, var_dir, storage_environment):
        self.name = name
        self.var_dir = var_dir
        self.environment = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "portal.settings.test",
            "TEST_DATABASE_URL": _test_database_url(),
            "TEST_CACHE_URL": "locmemcache://",
            "VAR_DIR": str(var_dir),
            **storage_environment,
        }

    def run(self, *args, **extra_environment):
        done = subprocess.run(
            [sys.executable, "-m", "tests.tickets.web_node", *args],
            cwd=REPO,
            env={**self.environment, **extra_environment},
            capture_output=True,
            timeout=60,
        )
        assert done.returncode == 0, f"node {self.name} failed:\n{done.stderr.decode(errors='replace')}"
        result = json.loads(done.stdout.decode().strip().splitlines()[-1])
        assert Path(result["node"]["private_media_root"]).is_relative_to(self.var_dir)
        return result

    def files_on_disk(self):
        return [p for p in self.var_dir.rglob("*") if p.is_file()]


def nodes(tmp_path, storage_environment):
    return [Node(name, tmp_path / name, storage_environment) for name in ("a", "b")]


@pytest.fixture
def signed_in_agent():
    """An agent signed in with his second factor here; the session cookie any node will be shown."""
    agent = factories.agent(email="agent@support.example")
    browser = staff_client(Client(), agent)
    return agent, browser.cookies[settings.SESSION_COOKIE_NAME].value


def test_a_file_uploaded_through_node_a_is_opened_through_node_b(tmp_path, s3_endpoint, signed_in_agent):
    agent, session = signed_in_agent
    bucket = s3_endpoint.new_bucket()
    node_a, node_b = nodes(tmp_path, bucket.environment())
    upload = tmp_path / "passport.pdf"
    upload.write_bytes(PASSPORT)

    filed = node_a.run("file", "passport.pdf", str(upload))
    assert filed["status"] == 302
    assert filed["node"]["evidence_backend"] == "tickets.storage.s3.PrivateS3Storage"
    [stored] = filed["evidence"]
    assert bucket.keys() == {stored["key"]}
    assert bucket.read(stored["key"]) == PASSPORT

    evidence = Evidence.objects.get(pk=stored["id"])
    assert evidence.sha256 == hashlib.sha256(PASSPORT).hexdigest()
    url = reverse("admin:tickets_servicerequest_evidence", args=[evidence.service_request_id, evidence.pk])
    opened = node_b.run("open", url, PORTAL_SESSION=session)
    assert opened["status"] == 200
    assert base64.b64decode(opened["body"]) == PASSPORT
    headers = opened["headers"]
    assert headers["Content-Type"] == "application/pdf"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Content-Security-Policy"].startswith("sandbox;")
    assert "no-store" in headers["Cache-Control"]
    assert 'filename="passport.pdf"' in headers["Content-Disposition"]

    [event] = AuditEvent.objects.filter(action="evidence.viewed")
    assert event.actor == agent and event.after == {"evidence": evidence.pk, "name": "passport.pdf"}
    assert node_a.files_on_disk() == [] and node_b.files_on_disk() == [], "neither node kept the file on its own disk"


def test_with_the_folder_storage_node_b_cannot_open_what_node_a_stored(tmp_path, signed_in_agent):
    """Why several nodes need the bucket: each node's folder is its own."""
    _, session = signed_in_agent
    node_a, node_b = nodes(tmp_path, {"EVIDENCE_STORAGE": "filesystem"})
    upload = tmp_path / "passport.pdf"
    upload.write_bytes(PASSPORT)

    [stored] = node_a.run("file", "passport.pdf", str(upload))["evidence"]
    assert [p.read_bytes() for p in node_a.files_on_disk()] == [PASSPORT]

    evidence = Evidence.objects.get(pk=stored["id"])
    url = reverse("admin:tickets_servicerequest_evidence", args=[evidence.service_request_id, evidence.pk])
    opened = node_b.run("open", url, PORTAL_SESSION=session)
    assert opened["status"] == 500 and b"12AB34567" not in base64.b64decode(opened["body"])
