"""The people who can stop a takeover hear first, an active admin blocks the support path, and one click
from an emailed link puts a request on hold until an independent supervisor decides."""

import re
from datetime import timedelta

import pytest
from django.test import Client

from accounts.models import Membership, User
from audit.models import AuditEvent
from notifications.models import OutboxMessage
from portal.clock import now, travel
from tests import factories
from tests.conftest import actor, emails_to, link_in, staff_client
from tests.helpers import open_link
from tickets import services, tokens
from tickets.models import CheckKind, Elevation, Objection, ObjectionLink, ServiceRequest, Status
from tickets.workflow import DomainError

from .flow import approve, complete, pass_checks, proposed_request, verified_request

ADMIN_URL = "/admin/tickets/servicerequest/{}/change/"


def confirm(sr):
    sr, raw = factories.confirmable_request(sr)
    services.service_request_confirm_email(reference=sr.reference, token=raw)
    sr.refresh_from_db()
    return sr


def tenant_with_admin(signed_in_days_ago=1, **kwargs):
    """A tenant whose global admin is active and signs in (or not) every day."""
    tenant = factories.TenantFactory(**kwargs)
    admin = factories.UserFactory(
        email=f"alice@{tenant.primary_domain}", full_name="Alice Admin", alternate_email="alice.home@example.net"
    )
    if signed_in_days_ago is not None:
        User.objects.filter(pk=admin.pk).update(last_login=now() - timedelta(days=signed_in_days_ago))
    factories.MembershipFactory(user=admin, tenant=tenant, role=Membership.Role.GLOBAL_ADMIN)
    return tenant, admin


def objection_link(email):
    """The objection link in the latest email to ``email``."""
    return link_in(emails_to(email)[-1], "/requests/object/")


def _no_csrf(response):
    """The page without what differs on every request: the CSRF token, and the URL echoed for the language switch."""
    html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", response.content.decode())
    return re.sub(r"token=[^\"&]+", "token=", html)


def object_via(client, url, message=""):
    page = open_link(client, url)
    assert page.status_code == 200 and "token=" not in page.content.decode().split("<main")[1]
    return client.post("/requests/object/", {"message": message})


# --- The people who can stop it hear first ----------------------------------------------------------------------


def test_confirmation_warns_every_active_global_admin_at_both_addresses_at_once(db, deliver):
    tenant, alice = tenant_with_admin()
    second = factories.UserFactory(email=f"bea@{tenant.primary_domain}")
    factories.MembershipFactory(user=second, tenant=tenant, role=Membership.Role.GLOBAL_ADMIN)
    gone = factories.UserFactory(email=f"old@{tenant.primary_domain}", is_active=False)
    factories.MembershipFactory(user=gone, tenant=tenant, role=Membership.Role.GLOBAL_ADMIN)
    member = factories.UserFactory(email=f"bob@{tenant.primary_domain}")
    factories.MembershipFactory(user=member, tenant=tenant)
    sr = factories.ServiceRequestFactory(tenant_on_record=tenant, former_admin_email=f"nobody@{tenant.primary_domain}")

    confirm(sr)
    deliver()

    warned = sorted(OutboxMessage.objects.filter(template="takeover_filed").values_list("to_email", flat=True))
    assert warned == sorted([alice.email, "alice.home@example.net", second.email])
    assert not emails_to(gone.email) and not emails_to(member.email)
    email = emails_to(alice.email)[-1]
    for fact in (sr.requester_name, sr.requester_email, sr.elevate_email, sr.reference):
        assert fact in email.body
    assert "no earlier than" in email.body
    links = {link_in(m, "/requests/object/") for m in emails_to(alice.email) + emails_to("alice.home@example.net")}
    assert len(links) == 2, "one link per address"


def test_the_former_admin_on_record_is_warned_too_if_an_account_of_the_tenant(db, deliver):
    tenant = factories.TenantFactory()
    marc = factories.UserFactory(email=f"marc@{tenant.primary_domain}", is_active=False)
    factories.MembershipFactory(user=marc, tenant=tenant, role=Membership.Role.GLOBAL_ADMIN)
    sr = confirm(factories.ServiceRequestFactory(tenant_on_record=tenant, former_admin_email=marc.email.upper()))
    deliver()
    assert objection_link(marc.email)
    link = ObjectionLink.objects.get(email=marc.email)
    assert link.why == ObjectionLink.Why.FORMER_ADMIN and link.service_request == sr


def test_a_former_admin_outside_the_tenant_is_not_emailed(db, deliver):
    tenant = factories.TenantFactory()
    stranger = factories.UserFactory(email=f"marc@{tenant.primary_domain}")  # no membership
    confirm(factories.ServiceRequestFactory(tenant_on_record=tenant, former_admin_email=stranger.email))
    deliver()
    assert not emails_to(stranger.email)


def test_a_tenant_matched_later_is_warned_when_it_differs(db, agent, deliver):
    filed_for, alice = tenant_with_admin()
    other, olga = tenant_with_admin(primary_domain="other-company.example")
    olga.email = "olga@other-company.example"
    sr = confirm(factories.ServiceRequestFactory(tenant_on_record=filed_for))
    assert ObjectionLink.objects.filter(tenant=filed_for).count() == 2

    services.service_request_match_tenant(service_request=sr, tenant=filed_for, actor=actor(agent))
    assert ObjectionLink.objects.filter(tenant=filed_for).count() == 2, "the same tenant is not warned twice"
    services.service_request_match_tenant(service_request=sr, tenant=other, actor=actor(agent))

    deliver()
    assert ObjectionLink.objects.filter(tenant=other).count() == 2
    assert objection_link(f"alice@{other.primary_domain}")


def test_the_objection_link_is_stored_hashed(db, deliver):
    tenant, alice = tenant_with_admin()
    confirm(factories.ServiceRequestFactory(tenant_on_record=tenant))
    deliver()
    raw = objection_link(alice.email).split("token=")[1]
    link = ObjectionLink.objects.get(email=alice.email)
    assert raw not in link.token_hash and link.token_hash == tokens.digest(raw)
    assert raw not in str(OutboxMessage.objects.get(to_email=alice.email, template="takeover_filed").secrets), (
        "erased from the outbox once sent"
    )


# --- One click from the email puts it on hold --------------------------------------------------------------------


def test_a_get_of_the_link_changes_nothing_and_shows_who_filed_what(client, db, deliver):
    tenant, alice = tenant_with_admin()
    sr = confirm(factories.ServiceRequestFactory(tenant_on_record=tenant))
    deliver()
    page = open_link(client, objection_link(alice.email)).content.decode()
    assert sr.requester_email in page and sr.elevate_email in page and "Stop this request" in page
    sr.refresh_from_db()
    assert sr.status == Status.NEW, "mail scanners that follow links put nothing on hold"


def test_an_objection_puts_the_request_on_hold_and_alerts_supervisors(client, db, agent, deliver):
    supervisor = factories.supervisor()
    tenant, alice = tenant_with_admin()
    sr = confirm(factories.ServiceRequestFactory(tenant_on_record=tenant))
    services.service_request_assign(service_request=sr, actor=actor(agent))
    deliver()

    response = object_via(client, objection_link(alice.email), "I am still the admin. I don't know this person.")

    assert response.status_code == 200 and 'id="objection-done"' in response.content.decode()
    sr.refresh_from_db()
    assert sr.status == Status.DISPUTED
    objection = Objection.objects.get()
    assert (objection.raised_by, objection.resolved_at) == (alice.email, None)
    assert "still the admin" in objection.message
    deliver()
    alert = emails_to(supervisor.email)[-1]
    assert "Objection" in alert.subject and "still the admin" in alert.body
    assert emails_to(agent.email)[-1].subject == alert.subject, "the assignee hears too"
    assert "on hold" in emails_to(sr.requester_email)[-1].subject
    event = AuditEvent.objects.get(action="objection.raised")
    assert event.actor_label == f"objector <{alice.email}>" and event.ip_address == "127.0.0.1"
    page = staff_client(Client(), supervisor).get(ADMIN_URL.format(sr.pk)).content.decode()
    assert 'id="objections"' in page and "still the admin" in page


def test_a_made_up_or_stale_link_is_refused_the_same_way(client, db, agent, deliver):
    tenant, alice = tenant_with_admin()
    sr = confirm(factories.ServiceRequestFactory(tenant_on_record=tenant))
    deliver()
    url = objection_link(alice.email)
    made_up = client.get("/requests/object/?token=" + "x" * 43)
    assert made_up.status_code == 404

    services.service_request_reject(service_request=sr, actor=actor(agent), reason="Not the company.")
    closed = client.get(url)
    assert closed.status_code == 404 and _no_csrf(closed) == _no_csrf(made_up), "a closed request's link dies with it"
    assert client.post("/requests/object/", {"token": url.split("token=")[1]}).status_code == 404
    assert not Objection.objects.exists()


def test_a_second_objection_on_a_disputed_request_is_added(client, db, deliver):
    factories.supervisor()
    tenant, alice = tenant_with_admin()
    sr = confirm(factories.ServiceRequestFactory(tenant_on_record=tenant))
    deliver()
    object_via(client, objection_link(alice.email))
    object_via(Client(), objection_link("alice.home@example.net"), "Me again, from home.")
    assert Objection.objects.filter(service_request=sr, resolved_at__isnull=True).count() == 2
    sr.refresh_from_db()
    assert sr.status == Status.DISPUTED


def _disputed_after_approval(client, deliver):
    agent, approver, independent = factories.agent(), factories.supervisor(), factories.supervisor()
    sr = proposed_request(agent)
    approve(sr, approver)
    deliver()
    luc = sr.elevate_email
    object_via(client, objection_link(luc), "This is not me.")
    sr.refresh_from_db()
    assert sr.status == Status.DISPUTED
    return sr, agent, approver, independent


def test_only_a_supervisor_who_neither_proposed_nor_approved_resolves(client, db, deliver):
    sr, agent, approver, independent = _disputed_after_approval(client, deliver)
    for who in (agent, approver):
        with pytest.raises(DomainError):
            services.objection_resolve(service_request=sr, actor=actor(who), decision="continue", reason="Fine.")
    with pytest.raises(DomainError, match="reason"):
        services.objection_resolve(service_request=sr, actor=actor(independent), decision="reject", reason=" ")
    with pytest.raises(DomainError, match="is disputed"):
        services.service_request_reject(service_request=sr, actor=actor(approver), reason="Bypassing the resolution.")
    sr.refresh_from_db()
    assert sr.status == Status.DISPUTED
    page = staff_client(Client(), approver).get(ADMIN_URL.format(sr.pk)).content.decode()
    assert 'value="resolve_objection"' not in page
    assert 'value="resolve_objection"' in staff_client(Client(), independent).get(ADMIN_URL.format(sr.pk)).content.decode()


def test_upholding_the_objection_rejects_and_tells_the_objector(client, db, deliver):
    sr, agent, approver, independent = _disputed_after_approval(client, deliver)
    services.objection_resolve(
        service_request=sr, actor=actor(independent), decision="reject", reason="The proposed user says they never asked."
    )
    sr.refresh_from_db()
    assert sr.status == Status.REJECTED
    assert not Membership.objects.filter(tenant=sr.tenant, role="global_admin").exists()
    deliver()
    outcome = emails_to(sr.elevate_email)[-1]
    assert "objection" in outcome.subject.lower() and "rejected" in outcome.body
    objection = Objection.objects.get()
    assert (objection.resolution, objection.resolved_by) == ("reject", independent)


def test_dismissing_the_objection_starts_a_new_full_waiting_period(client, db, deliver, settings):
    sr, agent, approver, independent = _disputed_after_approval(client, deliver)
    with travel(timedelta(hours=80)):  # the first period has long passed
        services.objection_resolve(
            service_request=sr, actor=actor(independent), decision="continue", reason="Luc confirmed by phone that he filed it."
        )
        started = now()
    sr.refresh_from_db()
    assert sr.status == Status.COOLING_OFF
    elevation = Elevation.objects.get(service_request=sr)
    assert elevation.effective_at == elevation.waiting_started_at + settings.ELEVATION_WAITING_PERIOD
    assert abs((elevation.waiting_started_at - started).total_seconds()) < 5
    deliver()
    latest = emails_to(sr.elevate_email)[-2:]
    assert any("new waiting period" in m.body for m in latest), "the objector is told the outcome"
    assert any("unless you object" in m.subject for m in latest), "and gets a fresh link"
    with travel(timedelta(hours=80 + 71)):
        services.elevations_complete_due()
    sr.refresh_from_db()
    assert sr.status == Status.COOLING_OFF, "the new period is a whole one"
    with travel(timedelta(hours=80 + 73)):
        services.elevations_complete_due()
    sr.refresh_from_db()
    assert sr.status == Status.ELEVATED


def test_the_waiting_period_completes_only_when_it_has_passed(db, agent, supervisor):
    sr = proposed_request(agent)
    approve(sr, supervisor)
    with travel(timedelta(hours=71, minutes=59)):
        assert services.elevations_complete_due() == 0
    sr.refresh_from_db()
    assert sr.status == Status.COOLING_OFF
    assert complete(sr).status == Status.ELEVATED
    assert services.elevations_complete_due() == 0, "done once"
    assert AuditEvent.objects.filter(action="elevation.completed").count() == 1


def test_an_admin_who_signs_in_during_the_waiting_period_puts_it_on_hold(db, agent, supervisor, deliver):
    tenant, alice = tenant_with_admin(signed_in_days_ago=45)  # looked gone when checked
    sr = proposed_request(agent, tenant=tenant)
    approve(sr, supervisor)
    with travel(timedelta(hours=10)):
        User.objects.filter(pk=alice.pk).update(last_login=now())

    assert complete(sr).status == Status.DISPUTED
    assert not Membership.objects.filter(tenant=tenant, role="global_admin", user__email=sr.elevate_email).exists()
    objection = Objection.objects.get()
    assert objection.raised_by == "system" and alice.email in objection.message


# --- An active admin blocks the support path ---------------------------------------------------------------------


def test_an_active_admin_who_signed_in_recently_blocks_the_gone_check(db, agent):
    tenant, alice = tenant_with_admin(signed_in_days_ago=3)
    sr = verified_request(tenant)
    ServiceRequest.objects.filter(pk=sr.pk).update(status=Status.IN_REVIEW)
    sr.checks.filter(kind=CheckKind.FORMER_ADMIN_GONE).delete()

    with pytest.raises(DomainError, match="cannot be confirmed gone") as refused:
        services.verification_check_record(
            service_request=sr, actor=actor(agent), kind=CheckKind.FORMER_ADMIN_GONE, outcome="passed", note="The requester says so."
        )
    assert alice.email in str(refused.value.message) and "console" in str(refused.value.message)
    assert not sr.checks.filter(kind=CheckKind.FORMER_ADMIN_GONE).exists()


def test_an_admin_quiet_for_longer_than_the_setting_does_not_block(db, agent, settings):
    tenant, alice = tenant_with_admin(signed_in_days_ago=31)
    sr = factories.ServiceRequestFactory(tenant_on_record=tenant, tenant=tenant, status=Status.IN_REVIEW)
    services.verification_check_record(service_request=sr, actor=actor(agent), kind=CheckKind.FORMER_ADMIN_GONE, outcome="passed")
    settings.ACTIVE_ADMIN_RECENT_SIGNIN = timedelta(days=60)
    with pytest.raises(DomainError, match="cannot be confirmed gone"):
        services.verification_check_record(service_request=sr, actor=actor(agent), kind=CheckKind.FORMER_ADMIN_GONE, outcome="passed")


def test_a_supervisor_override_with_a_reason_doubles_the_waiting_period(db, agent, settings):
    approver, overrider = factories.supervisor(), factories.supervisor()
    tenant, alice = tenant_with_admin(signed_in_days_ago=2)
    sr = factories.ServiceRequestFactory(tenant_on_record=tenant, tenant=tenant, status=Status.IN_REVIEW)
    pass_checks(sr, kinds=[k for k in ("email_confirmed", "callback_on_record", "identity_evidence", "company_details")])
    with pytest.raises(DomainError, match="supervisor"):
        services.admin_block_override(service_request=sr, actor=actor(agent), reason="Trust me.")
    with pytest.raises(DomainError, match="reason"):
        services.admin_block_override(service_request=sr, actor=actor(overrider), reason="")

    services.admin_block_override(
        service_request=sr, actor=actor(overrider), reason="Alice's account was stolen; the CEO confirmed by phone on record."
    )
    services.verification_check_record(service_request=sr, actor=actor(agent), kind=CheckKind.FORMER_ADMIN_GONE, outcome="passed")
    sr.refresh_from_db()
    assert sr.status == Status.VERIFIED
    services.elevation_propose(service_request=sr, actor=actor(agent), email=sr.elevate_email)
    elevation = approve(sr, approver)

    assert elevation.effective_at - elevation.approved_at == 2 * settings.ELEVATION_WAITING_PERIOD
    assert AuditEvent.objects.get(action="admin_block.overridden").after["admins"] == [alice.email]


def test_the_request_page_shows_each_global_admin_and_whether_they_were_told(db, agent, deliver):
    tenant, alice = tenant_with_admin(signed_in_days_ago=2)
    gone = factories.UserFactory(email=f"old@{tenant.primary_domain}", is_active=False, full_name="Old Admin")
    factories.MembershipFactory(user=gone, tenant=tenant, role=Membership.Role.GLOBAL_ADMIN)
    sr = confirm(factories.ServiceRequestFactory(tenant_on_record=tenant))
    deliver()

    page = staff_client(Client(), agent).get(ADMIN_URL.format(sr.pk)).content.decode()

    panel = page[page.index('id="global-admins"') : page.index("As filed")]
    assert "Alice Admin" in panel and "Old Admin" in panel and "deactivated" in panel
    assert "recent: blocks the support path" in panel
    assert re.search(rf"{re.escape(alice.email)}: Sent", panel) and "alice.home@example.net: Sent" in panel
    assert 'id="admin-block"' in page
    assert "Former admin is a global admin on record" not in page


# --- The attack this exists to stop ------------------------------------------------------------------------------


def test_a_member_naming_the_active_admin_as_former_admin_is_stopped(client, db, deliver):
    """A plain member of Contoso files a request naming Contoso's active global admin as "former admin" and
    asks to be made global admin. The admin hears before any agent acts; the gone check cannot pass; one
    click from the emailed link puts the request on hold."""
    from tests.helpers import submit

    tenant, alice = tenant_with_admin(signed_in_days_ago=0, legal_name="Contoso Ltd", primary_domain="contoso.example")
    mallory = factories.UserFactory(email="mallory@contoso.example")
    factories.MembershipFactory(user=mallory, tenant=tenant)
    agent, supervisor = factories.agent(), factories.supervisor()

    assert (
        submit(
            client,
            tenant,
            requester_email=mallory.email,
            requester_name="Mallory",
            former_admin_email=alice.email,
            elevate_email=mallory.email,
        ).status_code
        == 302
    )
    deliver()
    confirm_url = link_in(emails_to(mallory.email)[-1], "/confirm/")
    client.post(confirm_url, {"token": confirm_url.split("token=")[1]})
    sr = ServiceRequest.objects.get()
    assert sr.status == Status.NEW
    assert not AuditEvent.objects.filter(actor__is_staff=True).exists(), "no agent has acted yet"
    deliver()
    warning = emails_to(alice.email)[-1]
    assert "mallory@contoso.example" in warning.body and "/requests/object/" in warning.body

    with pytest.raises(DomainError, match="cannot be confirmed gone"):
        services.service_request_match_tenant(service_request=sr, tenant=tenant, actor=actor(agent))
        services.verification_check_record(
            service_request=sr,
            actor=actor(agent),
            kind=CheckKind.FORMER_ADMIN_GONE,
            outcome="passed",
            note="Requester says Alice left.",
        )

    object_via(Client(), link_in(warning, "/requests/object/"), "I have not left. Mallory is a member.")
    sr.refresh_from_db()
    assert sr.status == Status.DISPUTED
    with pytest.raises(DomainError):
        services.elevation_propose(service_request=sr, actor=actor(agent), email=mallory.email)
    assert not Membership.objects.filter(user=mallory, role="global_admin").exists()
    deliver()
    assert emails_to(supervisor.email)[-1].subject.endswith("Objection: the request is on hold")
