"""The whole path a real company walks: form → email → queue → checks → approval → new admin signs in."""

import re

from django.core import mail
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import Membership, User
from audit.models import AuditEvent
from tests import factories
from tests.conftest import emails_to, link_in, staff_client
from tests.helpers import open_link, submit
from tickets.models import CheckKind, ServiceRequest

from .flow import complete


def test_request_from_form_to_new_global_admin(client, db, deliver):
    tenant = factories.TenantFactory(legal_name="Fabrikam SARL", primary_domain="fabrikam.example")
    former = factories.UserFactory(email="marc@fabrikam.example", is_active=False, preferred_language="fr")
    factories.MembershipFactory(user=former, tenant=tenant, role=Membership.Role.GLOBAL_ADMIN)
    user_admin = factories.UserFactory(email="ua@fabrikam.example")
    factories.MembershipFactory(user=user_admin, tenant=tenant, role=Membership.Role.USER_ADMIN)
    agent = factories.agent(email="agent@support.example")
    supervisor = factories.supervisor(email="supervisor@support.example")

    # 1. The requester files the form and sees a reference.
    response = submit(client, tenant)
    assert response.status_code == 302, response.content.decode()[:3000]
    page = client.get(response["Location"])
    sr = ServiceRequest.objects.get()
    assert sr.reference in page.content.decode()
    assert sr.status == "awaiting_email_confirmation"
    assert sr.evidence.count() == 1

    # 2. The confirmation link arrives by email; until it is used, nothing is in the queue.
    deliver()
    confirm = emails_to("claire@fabrikam.example")[-1]
    assert confirm.alternatives and confirm.alternatives[0][1] == "text/html"
    assert not emails_to("agent@support.example")
    confirm_url = link_in(confirm, "/confirm/")
    assert "confirm" in open_link(client, confirm_url).content.decode().lower()
    response = client.post(confirm_url, {"token": confirm_url.split("token=")[1]})
    assert response.status_code == 302
    tracking_url = response["Location"]
    tracking = open_link(client, tracking_url)
    assert tracking.status_code == 200
    assert '<span class="badge bg-primary" id="status">New</span>' in tracking.content.decode()
    deliver()
    assert "/requests/" in emails_to("claire@fabrikam.example")[-1].body
    assert emails_to("agent@support.example"), "agents hear of a new request in the queue"
    warned = emails_to("marc@fabrikam.example")
    assert len(warned) == 1 and "/requests/object/" in warned[0].body, "the former admin on record hears at once"

    # 3. The agent assigns, matches the tenant and records each check.
    ac = staff_client(client.__class__(), agent)
    url = f"/admin/tickets/servicerequest/{sr.pk}/change/"
    assert ac.post(url, {"action": "assign"}).status_code == 302
    assert ac.post(url, {"action": "match_tenant", "match_tenant-tenant": tenant.pk}).status_code == 302
    page = ac.get(url).content.decode()
    assert tenant.phone_on_record in page
    for kind in (CheckKind.IDENTITY_EVIDENCE, CheckKind.CALLBACK_ON_RECORD, CheckKind.COMPANY_DETAILS, CheckKind.FORMER_ADMIN_GONE):
        ac.post(
            url, {"action": "record_check", "record_check-kind": kind, "record_check-outcome": "passed", "record_check-note": "ok"}
        )
    sr.refresh_from_db()
    assert sr.status == "verified"

    # 4. The agent proposes; the supervisor (another person) approves.
    ac.post(
        url,
        {
            "action": "propose_elevation",
            "propose_elevation-email": "luc@fabrikam.example",
            "propose_elevation-full_name": "Luc Bernard",
        },
    )
    sr.refresh_from_db()
    assert sr.status == "elevation_proposed"
    deliver()
    assert emails_to("supervisor@support.example")[-1].subject.endswith("Fabrikam SARL")
    sc = staff_client(client.__class__(), supervisor)
    page = sc.get(url).content.decode()
    bound = dict(re.findall(r'name="(approve_elevation-[a-z_]+)" value="([^"]*)"', page))
    assert bound == {"approve_elevation-elevation_id": str(sr.elevation.pk), "approve_elevation-email": "luc@fabrikam.example"}, (
        "approval carries what the page showed"
    )
    response = sc.post(url, {"action": "approve_elevation", **bound})
    assert response.status_code == 302
    sr.refresh_from_db()
    assert sr.status == "cooling_off"
    assert not Membership.objects.filter(tenant=tenant, role="global_admin", user__email="luc@fabrikam.example").exists()

    # 5. The requester sees when the waiting period ends; the former admin is told again, with a link to object.
    tracking = open_link(client, tracking_url).content.decode()
    assert 'id="effective-at"' in tracking
    deliver()
    again = emails_to("marc@fabrikam.example")[-1]
    assert "sauf opposition" in again.subject, "in the former admin's language"
    assert "/requests/object/" in again.body
    assert complete(sr).status == "elevated", "nobody objected: beat completes it once the period has passed"

    # 6. Everyone concerned hears of it; the new admin sets a password once and signs in.
    deliver()
    luc = User.objects.get(email="luc@fabrikam.example")
    assert Membership.objects.get(user=luc, tenant=tenant).role == "global_admin"
    assert not luc.is_active
    welcome = emails_to("luc@fabrikam.example")[-1]
    assert "global admin" in welcome.subject
    assert emails_to("claire@fabrikam.example")[-1].subject.startswith(f"[{sr.reference}]")
    assert emails_to("ua@fabrikam.example"), "other admins of the tenant are told"
    assert emails_to("marc@fabrikam.example"), "the former admin's address on record is told"

    set_url = link_in(welcome, "/account/set-password/")
    form_page = client.get(set_url, follow=True)
    assert form_page.status_code == 200
    new_password = "a long and unusual passphrase 42"
    done = client.post(form_page.redirect_chain[-1][0], {"new_password1": new_password, "new_password2": new_password})
    assert done.status_code == 302
    luc.refresh_from_db()
    assert luc.is_active and luc.check_password(new_password)
    assert client.post("/login/", {"email": "luc@fabrikam.example", "password": new_password})["Location"] == "/login/enrol/"
    # First sign-in: enrol an authenticator (a real code), save the backup codes, land on the console.
    enrol = client.get("/login/enrol/").content.decode()
    assert "<svg" in enrol
    device = TOTPDevice.objects.get(user=luc, confirmed=False)
    codes_page = client.post("/login/enrol/", {"token": f"{totp(device.bin_key):06d}"}, follow=True)
    assert len(codes_page.context["codes"]) == 10
    welcome_page = client.get(codes_page.context["next"], follow=True).content.decode()
    assert "You are global admin of Fabrikam SARL" in welcome_page
    # The link works once.
    client.logout()
    assert "not valid" in client.get(set_url, follow=True).content.decode()

    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {
        "request.filed",
        "status.changed",
        "check.recorded",
        "elevation.proposed",
        "elevation.approved",
        "role.changed",
        "password.set",
    } <= actions
    assert len(mail.outbox) >= 8
