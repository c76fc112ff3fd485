"""Content-Security-Policy on every HTML page: our own scripts and styles only, none inline, never framed."""

import importlib
import re
from pathlib import Path

import pytest
from django.test import Client

from tests import factories
from tests.conftest import staff_client

ROOT = Path(__file__).resolve().parent.parent
INLINE = [
    (re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I), "inline <script>"),
    (re.compile(r"\son[a-z]+\s*=", re.I), "event handler attribute"),
    (re.compile(r"\sstyle\s*=", re.I), "style attribute"),
    (re.compile(r"<style\b", re.I), "<style> block"),
    (re.compile(r"javascript:", re.I), "javascript: URL"),
]


def _inline(html):
    body = re.sub(r"<svg\b.*?</svg>", "", html, flags=re.S | re.I)  # drawn QR codes: markup, not style
    return [what for pattern, what in INLINE if pattern.search(body)]


def _policy(response):
    header = response["Content-Security-Policy"]
    return dict(part.strip().split(" ", 1) for part in header.split(";") if part.strip())


def test_no_page_template_has_inline_script_or_style():
    """Emails are not pages (their HTML is never served under the policy), the rest must hold."""
    found = [
        f"{path.relative_to(ROOT)}: {what}"
        for path in sorted((ROOT / "templates").rglob("*.html"))
        if "notifications" not in path.parts
        for what in _inline(path.read_text())
    ]
    assert found == []


@pytest.mark.parametrize("path", ["/", "/requests/", "/requests/new/", "/requests/new/admin_left/", "/requests/access/", "/login/",
                                  "/password-reset/", "/password-reset/work/"])  # fmt: skip
def test_public_pages_carry_the_policy_and_nothing_inline(client, db, path):
    response = client.get(path, follow=True)
    assert response.status_code in (200, 404)
    policy = _policy(response)
    assert policy["script-src"] == "'self'" and policy["style-src"] == "'self'" and policy["frame-ancestors"] == "'none'"
    assert "unsafe-inline" not in response["Content-Security-Policy"]
    assert _inline(response.content.decode()) == []


def test_the_tracking_page_and_the_agents_page_hold_too(client, db):
    sr, raw = factories.tracked_request(status="new")
    tracking = client.get(f"/requests/{sr.reference}/?token={raw}", follow=True)
    assert tracking.status_code == 200 and _inline(tracking.content.decode()) == []
    agent_page = staff_client(Client(), factories.agent()).get(f"/admin/tickets/servicerequest/{sr.pk}/change/")
    assert agent_page.status_code == 200 and _policy(agent_page)["frame-ancestors"] == "'none'"
    assert _inline(agent_page.content.decode()) == []


def test_the_demo_reports_instead_of_blocking():
    local = importlib.import_module("portal.settings.local")
    assert local.CONTENT_SECURITY_POLICY is None
    assert local.CONTENT_SECURITY_POLICY_REPORT_ONLY["DIRECTIVES"]["frame-ancestors"] == ["'none'"]
