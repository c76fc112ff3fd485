"""No emailed secret is kept in clear: each is taken from its email as the recipient would, then looked for in
every column of every table of the database. What is stored is its SHA-256 digest (the set-password link,
Django's own stateless token, stores nothing), and the outbox forgets the link once the email is sent."""

import hashlib
import json
import re

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.db import connection
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import AccountFreezeLink, Membership, PasswordResetSession
from notifications.models import OutboxMessage
from tests import factories
from tests.conftest import emails_to, link_in, staff_client
from tests.helpers import captcha_answer, submit
from tickets.models import ObjectionLink, ServiceRequest

from .tickets.flow import approve, complete, proposed_request

pytestmark = pytest.mark.django_db

REQUESTER = "claire@fabrikam.example"
ADMIN = "alice@fabrikam.example"
NEW_PASSWORD = "lantern orchard violet harbour"


def sha256(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def places_holding(secret: str) -> list[str]:
    """Every ``table.column`` of the database whose value contains ``secret`` (server-side sessions decoded:
    they are signed and compressed, not encrypted). A code of digits must stand alone, not inside a number."""
    pattern = re.compile((r"(?<!\d)%s(?!\d)" if secret.isdigit() else "%s") % re.escape(secret))
    found = set()
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f"SELECT row_to_json(t)::text FROM {connection.ops.quote_name(table)} t")
            for (row,) in cursor.fetchall():
                for column, value in json.loads(row).items():
                    if table == "django_session" and column == "session_data":
                        value = SessionStore().decode(value)
                    if pattern.search(json.dumps(value, default=str)):
                        found.add(f"{table}.{column}")
    return sorted(found)


def token_of(url: str) -> str:
    return re.search(r"token=([^&\s]+)", url).group(1)


def path_of(url: str) -> str:
    return re.sub(r"^https?://[^/]+", "", url)


def secrets_left_in_sent_emails() -> list:
    return list(OutboxMessage.objects.filter(status=OutboxMessage.Status.SENT).exclude(secrets={}).values_list("template", "secrets"))


def test_the_places_search_finds_a_secret_where_one_is_kept(db):
    """The search itself can fail: a value put in a column, or in a session, is found there."""
    factories.TenantFactory(postal_address="kept in clear: Zq8-secret_value")
    session = SessionStore()
    session["reset_token"] = "Zq9-session_value"
    session.save()
    assert places_holding("Zq8-secret_value") == ["accounts_tenant.postal_address"]
    assert places_holding("Zq9-session_value") == ["django_session.session_data"]
    factories.TenantFactory(phone_on_record="+33 1 40 123456")
    assert places_holding("123456") == ["accounts_tenant.phone_on_record"]
    assert places_holding("23456") == [], "a code is matched whole, not inside a longer number"


# --- the requester's links, and the objection link ----------------------------------------------------------


@pytest.fixture
def fabrikam(db):
    """A company with an active global admin, who is warned (with an objection link) when a request is confirmed."""
    tenant = factories.TenantFactory(legal_name="Fabrikam SARL", primary_domain="fabrikam.example")
    factories.MembershipFactory(user=factories.UserFactory(email=ADMIN), tenant=tenant, role=Membership.Role.GLOBAL_ADMIN)
    return tenant


def test_the_confirmation_tracking_and_objection_links_are_stored_as_digests_only(client, fabrikam, deliver):
    assert submit(client, fabrikam).status_code == 302
    deliver()
    confirm_url = link_in(emails_to(REQUESTER)[-1], "/confirm/")
    confirmation = token_of(confirm_url)
    sr = ServiceRequest.objects.get()
    assert sr.confirmation_token_hash == sha256(confirmation)
    assert places_holding(confirmation) == []

    assert client.post(path_of(confirm_url), {"token": confirmation}).status_code == 302
    deliver()
    tracking = token_of(link_in(emails_to(REQUESTER)[-1], f"/requests/{sr.reference}/?token="))
    objection = token_of(link_in(emails_to(ADMIN)[-1], "/requests/object/"))
    sr.refresh_from_db()
    assert sr.tracking_token_hash == sha256(tracking)
    assert sr.confirmation_token_hash not in ("", sha256(confirmation)), "used once: what is kept confirms nothing"
    assert ObjectionLink.objects.get(email=ADMIN).token_hash == sha256(objection)
    for raw in (confirmation, tracking, objection):
        assert places_holding(raw) == []
    assert secrets_left_in_sent_emails() == []


def test_a_tracking_link_sent_again_is_stored_as_a_digest_only(client, deliver, celery_inline):
    sr, old = factories.tracked_request(status="new", requester_email=REQUESTER)
    page = client.get("/requests/access/")
    data = {"reference": sr.reference, "email": REQUESTER, **captcha_answer(page.content.decode())}
    assert client.post("/requests/access/", data).status_code == 200
    deliver()
    fresh = token_of(link_in(emails_to(REQUESTER)[-1], f"/requests/{sr.reference}/?token="))
    sr.refresh_from_db()
    assert fresh != old and sr.tracking_token_hash == sha256(fresh)
    assert places_holding(fresh) == []
    assert secrets_left_in_sent_emails() == []


# --- set-password links: Django's stateless token, nothing stored -------------------------------------------


def _reset_by_admin(tenant, admin, member):
    staff_client(Client(), admin).post(f"/console/{tenant.pk}/users/{member.pk}/reset-password/", {"mode": "link", "confirmed": "1"})
    return member.email


def _invitation(tenant, admin, member):
    staff_client(Client(), admin).post(
        f"/console/{tenant.pk}/users/invite/", {"email": "nina@fabrikam.example", "full_name": "Nina Neuve"}
    )
    return "nina@fabrikam.example"


def _new_global_admin(tenant, admin, member):
    """Support makes a new user global admin of a company that has none (one that has, blocks it)."""
    sr = proposed_request(factories.agent())
    approve(sr, factories.supervisor())
    assert complete(sr).status == "elevated"
    return sr.elevate_email


@pytest.mark.parametrize("send", [_reset_by_admin, _invitation, _new_global_admin], ids=["reset by admin", "invitation", "new admin"])
def test_a_set_password_link_is_not_stored_anywhere(fabrikam, deliver, send):
    admin = Membership.objects.get(tenant=fabrikam, role=Membership.Role.GLOBAL_ADMIN).user
    TOTPDevice.objects.create(user=admin, name="phone", confirmed=True)
    member = factories.MembershipFactory(tenant=fabrikam, user=factories.UserFactory(email="theo@fabrikam.example")).user
    to = send(fabrikam, admin, member)
    deliver()
    url = link_in(emails_to(to)[-1], "/account/set-password/")
    token = re.search(r"/account/set-password/[^/]+/([^/]+)/", url).group(1)
    assert places_holding(token) == []
    assert secrets_left_in_sent_emails() == []


# --- self-service reset: the code, the reset session and the "this wasn't me" link --------------------------


def test_the_reset_code_session_token_and_freeze_link_are_stored_as_digests_only(client, deliver):
    tenant = factories.TenantFactory(primary_domain="contoso.example", self_service_reset_enabled=True)
    alice = factories.MembershipFactory(
        tenant=tenant, user=factories.UserFactory(email="alice@contoso.example", alternate_email="alice.home@mail.example")
    ).user
    client.post("/password-reset/", {"account_type": "work"})
    page = client.get("/password-reset/work/")
    client.post("/password-reset/work/", {"email": alice.email, **captcha_answer(page.content.decode())})
    assert client.get("/password-reset/verify/").status_code == 200
    deliver()
    [code_email] = [m for m in emails_to("alice.home@mail.example") if m.subject == "Your password reset code"]
    code = re.search(r"^\s*(\d{6})\s*$", code_email.body, re.M).group(1)
    session_token = client.session["reset_token"]
    reset = PasswordResetSession.objects.get(user=alice)
    assert reset.code_hash == sha256(code) and reset.token_hash == sha256(session_token)
    assert places_holding(code) == []
    # The reset session's own token is kept only in this browser's server-side session, like its session key.
    assert places_holding(session_token) == ["django_session.session_data"]

    assert client.post("/password-reset/verify/", {"action": "verify", "code": code, "token": ""})["Location"] == (
        "/password-reset/new-password/"
    )
    done = client.post("/password-reset/new-password/", {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert "Your password is reset" in done.content.decode()
    deliver()
    [told] = [m for m in emails_to(alice.email) if m.subject == "Your password was reset"]
    freeze = token_of(link_in(told, "/password-reset/not-me/"))
    assert AccountFreezeLink.objects.filter(user=alice, token_hash=sha256(freeze)).exists()
    assert places_holding(freeze) == []
    assert places_holding(session_token) == [], "gone from the session once the reset is done"
    assert secrets_left_in_sent_emails() == []
