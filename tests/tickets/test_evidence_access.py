"""Evidence files: only staff with the permission, signed in with OTP, can open them, and each opening is audited."""

import hashlib
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from audit.models import AuditEvent
from tests import factories
from tests.conftest import staff_client
from tests.factories import PASSWORD
from tests.helpers import PDF_BYTES, open_link
from tickets import services

pytestmark = pytest.mark.django_db

SECRET_A = PDF_BYTES + b"% passport of Claire Martin, number 12AB34567\n"
SECRET_B = PDF_BYTES + b"% board minutes of another company, strictly confidential\n"


def request_with_evidence(name, content, message, **kwargs):
    """A confirmed request whose requester replied with one file; returns it, its evidence and tracking path."""
    sr, raw = factories.tracked_request(status="new", **kwargs)
    services.service_request_requester_reply(
        service_request=sr, body=message, uploads=[SimpleUploadedFile(name, content, content_type="application/pdf")]
    )
    return sr, sr.evidence.get(), factories.tracking_path(sr, raw)


@pytest.fixture
def a():
    return request_with_evidence("a-passport.pdf", SECRET_A, "Reply from A: my passport.", requester_name="Alice A")


@pytest.fixture
def b():
    return request_with_evidence("b-board-minutes.pdf", SECRET_B, "Reply from B: board minutes.", requester_name="Bob B")


def evidence_url(sr, evidence):
    return reverse("admin:tickets_servicerequest_evidence", args=[sr.pk, evidence.pk])


def body_of(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def views_recorded():
    return AuditEvent.objects.filter(action="evidence.viewed")


# --- who may open a file ----------------------------------------------------------------------


def test_anonymous_is_sent_to_the_admin_login(client, a):
    sr, evidence, _ = a
    url = evidence_url(sr, evidence)
    assert url == f"/admin/tickets/servicerequest/{sr.pk}/evidence/{evidence.pk}/"
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"] == f"/admin/login/?next={url}"
    assert b"12AB34567" not in body_of(response)
    assert not views_recorded().exists()


def test_a_signed_in_user_who_is_not_staff_gets_no_file(client, a):
    sr, evidence, _ = a
    user = factories.UserFactory(email="claire@" + sr.company_domain)
    TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    response = staff_client(client, user).get(evidence_url(sr, evidence))
    assert response.status_code == 302
    assert response["Location"] == f"/admin/login/?next={evidence_url(sr, evidence)}"
    assert b"12AB34567" not in body_of(response)
    assert not views_recorded().exists()


def test_staff_without_the_permission_get_403(client, a):
    sr, evidence, _ = a
    user = factories.UserFactory(email="billing@support.example", is_staff=True)
    TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    response = staff_client(client, user).get(evidence_url(sr, evidence))
    assert response.status_code == 403
    assert b"12AB34567" not in body_of(response)
    assert not views_recorded().exists()


# An agent has every permission these pages need; a password alone still opens none of them.
PAGES = {
    "queue": lambda sr, evidence: "/admin/tickets/servicerequest/",
    "request page": lambda sr, evidence: f"/admin/tickets/servicerequest/{sr.pk}/change/",
    "evidence": lambda sr, evidence: evidence_url(sr, evidence),
}


def password_only(client, agent, how):
    if how == "code not typed yet":
        response = client.post("/login/", {"email": agent.email, "password": PASSWORD})
        assert response.status_code == 302 and response["Location"] == "/login/verify/"
    else:  # a session without the verified device, e.g. one opened before the agent was made staff
        client.force_login(agent)
    return client


@pytest.mark.parametrize("how", ["code not typed yet", "session without the second factor"])
@pytest.mark.parametrize("page", PAGES)
def test_an_agent_without_a_verified_second_factor_is_sent_to_sign_in(client, agent, a, page, how):
    sr, evidence, _ = a
    path = PAGES[page](sr, evidence)
    browser = password_only(client, agent, how)

    response = browser.get(path)
    assert response.status_code == 302 and response["Location"] == f"/admin/login/?next={path}"
    assert b"12AB34567" not in body_of(response) and sr.reference.encode() not in body_of(response)
    assert not views_recorded().exists()

    # The admin's login hands over to the portal's sign-in, signed out first so that it does not send him back.
    onwards = browser.get(response["Location"])
    assert onwards.status_code == 302 and onwards["Location"] == f"/login/?next={path}"
    assert "_auth_user_id" not in browser.session
    assert browser.get(onwards["Location"]).status_code == 200
    assert not views_recorded().exists()

    assert staff_client(Client(), agent).get(path).status_code == 200, "with the second factor verified, he gets in"


def test_an_agent_opens_the_file_and_it_is_audited(agent_client, agent, a):
    sr, evidence, _ = a
    page = agent_client.get(f"/admin/tickets/servicerequest/{sr.pk}/change/").content.decode()
    assert f'href="{evidence_url(sr, evidence)}"' in page, "the request page links to the file"

    response = agent_client.get(evidence_url(sr, evidence))
    assert response.status_code == 200
    assert body_of(response) == SECRET_A
    assert response["Content-Type"] == "application/pdf"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "no-store" in response["Cache-Control"]
    assert "a-passport.pdf" in response["Content-Disposition"]

    [event] = views_recorded()
    assert event.actor == agent
    assert event.target_id == str(sr.pk)
    assert event.after == {"evidence": evidence.pk, "name": "a-passport.pdf"}

    agent_client.get(evidence_url(sr, evidence))
    assert views_recorded().count() == 2, "every opening is recorded"


def test_a_supervisor_can_open_it_too(supervisor_client, a):
    sr, evidence, _ = a
    response = supervisor_client.get(evidence_url(sr, evidence))
    assert response.status_code == 200
    assert body_of(response) == SECRET_A


# --- one request never shows another's files ----------------------------------------------------


def test_the_tracking_page_of_a_never_shows_b(client, a, b):
    sr_a, _, link_a = a
    sr_b, _, link_b = b
    page_a = open_link(client, link_a).content.decode()
    assert "a-passport.pdf" in page_a and "Reply from A: my passport." in page_a
    assert "b-board-minutes.pdf" not in page_a
    assert "Reply from B" not in page_a
    page_b = open_link(client, link_b).content.decode()
    assert "b-board-minutes.pdf" in page_b and "a-passport.pdf" not in page_b

    # A's token does not open B, even with B's reference.
    token_a = link_a.split("token=")[1]
    assert open_link(client, f"/requests/{sr_b.reference}/?token={token_a}").status_code == 404


def test_b_evidence_under_a_is_404_even_for_an_agent(agent_client, a, b):
    sr_a, evidence_a, _ = a
    sr_b, evidence_b, _ = b
    response = agent_client.get(evidence_url(sr_a, evidence_b))
    assert response.status_code == 404
    assert b"board minutes" not in body_of(response)
    assert agent_client.get(f"/admin/tickets/servicerequest/{sr_a.pk}/evidence/999999/").status_code == 404
    assert not views_recorded().exists()
    assert body_of(agent_client.get(evidence_url(sr_b, evidence_b))) == SECRET_B


# --- where the files live ---------------------------------------------------------------------


def test_evidence_is_stored_privately_and_no_public_url_serves_it(client, a):
    sr, evidence, _ = a
    on_disk = Path(evidence.file.path).resolve()
    assert on_disk.is_relative_to(Path(settings.PRIVATE_MEDIA_ROOT).resolve())
    assert not on_disk.is_relative_to(Path(settings.MEDIA_ROOT).resolve())
    assert on_disk.read_bytes() == SECRET_A
    assert evidence.sha256 == hashlib.sha256(SECRET_A).hexdigest()

    name = evidence.file.name
    assert name.startswith("evidence/")
    for path in (
        f"/media/{name}",
        f"/{name}",
        f"/private/{name}",
        f"/static/../private/{name}",
        f"/var/private/{name}",
        f"/media/{on_disk.name}",
    ):
        response = client.get(path)
        assert response.status_code == 404, path
        assert b"12AB34567" not in body_of(response)
