"""Approval binds to what was reviewed; what the requester sends after verification is reviewed again;
another user than the one named is flagged; one elevation at a time per tenant; a shorter wait needs a reason."""

import re
from datetime import timedelta

import pytest
from django.test import Client

from audit.models import AuditEvent
from notifications.models import OutboxMessage
from portal.clock import travel
from tests import factories
from tests.conftest import actor, emails_to, staff_client
from tests.helpers import open_link, pdf
from tickets import services
from tickets.models import CheckKind, CheckOutcome, Elevation, RequestLink, ServiceRequest, Status
from tickets.selectors import latest_checks
from tickets.workflow import DomainError

from .flow import approve, complete, proposed_request, verified_request

ADMIN_URL = "/admin/tickets/servicerequest/{}/change/"


def errors(response):
    return re.findall(r'<li class="error">(.*?)</li>', response.content.decode(), re.S)


def approve_form(page_html):
    return dict(re.findall(r'name="(approve_elevation-[a-z_]+)" value="([^"]*)"', page_html))


# --- Approval binds to what was reviewed -------------------------------------------------------------------------


def test_an_approval_drawn_before_the_proposal_changed_is_refused_and_says_what_changed(db, agent):
    first, second = factories.supervisor(), factories.supervisor()
    sr = proposed_request(agent)
    page = staff_client(Client(), first).get(ADMIN_URL.format(sr.pk)).content.decode()
    seen = approve_form(page)
    assert seen["approve_elevation-email"] == sr.elevate_email

    # Meanwhile another supervisor sends it back and someone proposes another person.
    services.elevation_send_back(service_request=sr, actor=actor(second), note="Ask for a second ID.")
    for kind in (CheckKind.IDENTITY_EVIDENCE, CheckKind.COMPANY_DETAILS, CheckKind.FORMER_ADMIN_GONE):
        services.verification_check_record(service_request=sr, actor=actor(agent), kind=kind, outcome="passed")
    other = f"eve@{sr.tenant.primary_domain}"
    services.elevation_propose(service_request=sr, actor=actor(agent), email=other, note="The CEO asked for Eve.")

    response = staff_client(Client(), first).post(ADMIN_URL.format(sr.pk), {"action": "approve_elevation", **seen})

    [message] = errors(response)
    assert sr.elevate_email in message and other in message and "changed" in message
    sr.refresh_from_db()
    assert sr.status == Status.ELEVATION_PROPOSED
    assert Elevation.objects.get(service_request=sr).approved_at is None


def test_an_approval_of_a_withdrawn_proposal_is_refused(db, agent, supervisor):
    sr = proposed_request(agent)
    elevation = sr.elevation
    services.elevation_send_back(service_request=sr, actor=actor(factories.supervisor()), note="Not yet.")
    with pytest.raises(DomainError):
        services.elevation_approve(service_request=sr, actor=actor(supervisor), elevation_id=elevation.pk, email=elevation.email)


def test_an_approval_with_a_tampered_email_is_refused(db, agent, supervisor):
    sr = proposed_request(agent)
    with pytest.raises(DomainError, match="changed"):
        services.elevation_approve(
            service_request=sr, actor=actor(supervisor), elevation_id=sr.elevation.pk, email=f"someone.else@{sr.tenant.primary_domain}"
        )
    assert ServiceRequest.objects.get(pk=sr.pk).status == Status.ELEVATION_PROPOSED


# --- What the requester sends after verification is reviewed again ------------------------------------------------


def _tracked(sr):
    sr, raw = factories.tracked_request(sr)
    return factories.tracking_path(sr, raw), raw


@pytest.mark.parametrize("status", [Status.VERIFIED, Status.ELEVATION_PROPOSED])
@pytest.mark.parametrize("with_file", [True, False])
def test_a_reply_after_verification_returns_to_review_and_voids_what_depends_on_it(client, db, agent, status, with_file):
    sr = proposed_request(agent) if status == Status.ELEVATION_PROPOSED else verified_request()
    url, raw = _tracked(sr)
    page = open_link(client, url).content.decode()
    assert 'id="reply-reopens"' in page, "the requester is warned before sending"

    data = {"token": raw, "action": "reply", "body": "Here is a newer ID card."}
    if with_file:
        data["evidence"] = [pdf("new-id.pdf")]
    assert client.post(url, data).status_code == 302

    sr.refresh_from_db()
    assert sr.status == Status.IN_REVIEW
    latest = latest_checks(sr)
    voided = {k for k, c in latest.items() if c.outcome == CheckOutcome.VOIDED}
    assert voided == {CheckKind.IDENTITY_EVIDENCE, CheckKind.COMPANY_DETAILS, CheckKind.FORMER_ADMIN_GONE}
    assert latest[CheckKind.CALLBACK_ON_RECORD].outcome == CheckOutcome.PASSED, "the call-back did not rest on it"
    assert not Elevation.objects.filter(service_request=sr).exists(), "an unapproved proposal is dropped"
    change = AuditEvent.objects.filter(action="status.changed").latest("pk")
    assert "after verification" in change.after["note"] and "identity_evidence" in change.after["note"]


def test_once_approved_the_requester_may_write_but_not_add_files(client, db, agent, supervisor):
    sr = proposed_request(agent)
    approve(sr, supervisor)
    url, raw = _tracked(sr)
    page = open_link(client, url).content.decode()
    assert 'id="effective-at"' in page

    response = client.post(url, {"token": raw, "action": "reply", "body": "Also this.", "evidence": [pdf()]})
    assert "files can no longer be added" in response.content.decode()
    assert "Also this." in response.content.decode(), "what was typed is kept"
    assert client.post(url, {"token": raw, "action": "reply", "body": "Thank you!"}).status_code == 302
    sr.refresh_from_db()
    assert sr.status == Status.COOLING_OFF, "a thank-you does not undo the approval"


def test_sending_back_voids_the_checks_that_depend_on_the_requester(db, agent, supervisor):
    sr = proposed_request(agent)
    services.elevation_send_back(service_request=sr, actor=actor(supervisor), note="The ID looks edited.")
    sr.refresh_from_db()
    assert sr.status == Status.IN_REVIEW
    latest = latest_checks(sr)
    assert {k for k, c in latest.items() if c.outcome == CheckOutcome.VOIDED} == {
        CheckKind.IDENTITY_EVIDENCE,
        CheckKind.COMPANY_DETAILS,
        CheckKind.FORMER_ADMIN_GONE,
    }
    assert "The ID looks edited." in AuditEvent.objects.filter(action="status.changed").latest("pk").after["note"]


def test_a_supervisor_may_withdraw_an_approval_during_the_waiting_period(db, agent, supervisor):
    sr = proposed_request(agent)
    approve(sr, supervisor)
    services.elevation_send_back(service_request=sr, actor=actor(factories.supervisor()), note="Second thoughts.")
    sr.refresh_from_db()
    assert sr.status == Status.IN_REVIEW
    assert services.elevations_complete_due() == 0
    with travel(timedelta(days=10)):
        assert services.elevations_complete_due() == 0
    assert not Elevation.objects.exists()


# --- Another user than the one named ------------------------------------------------------------------------------


def test_proposing_another_user_needs_a_note_and_tells_the_requester_and_the_admins(db, agent, deliver):
    from .test_takeover import tenant_with_admin

    tenant, alice = tenant_with_admin(signed_in_days_ago=90)
    sr = verified_request(tenant)
    other = f"eve@{tenant.primary_domain}"
    with pytest.raises(DomainError, match="not the user the requester named"):
        services.elevation_propose(service_request=sr, actor=actor(agent), email=other)

    elevation = services.elevation_propose(
        service_request=sr, actor=actor(agent), email=other, note="Luc is on leave; the company named Eve on the call-back."
    )

    assert elevation.differs_from_request
    deliver()
    assert other in emails_to(sr.requester_email)[-1].body
    to_alice = emails_to(alice.email)[-1]
    assert other in to_alice.body and sr.elevate_email in to_alice.body and "/requests/object/" in to_alice.body
    assert "/requests/object/" in emails_to(other)[-1].body, "the proposed user is told, and can object"
    page = staff_client(Client(), agent).get(ADMIN_URL.format(sr.pk)).content.decode()
    assert 'id="differs"' in page and "Luc is on leave" in page


def test_proposing_the_named_user_raises_no_flag(db, agent):
    sr = verified_request()
    elevation = services.elevation_propose(service_request=sr, actor=actor(agent), email=sr.elevate_email.upper())
    assert not elevation.differs_from_request
    assert not OutboxMessage.objects.filter(template__in=["takeover_other_user", "elevation_other_user_requester"]).exists()


# --- One elevation at a time per tenant -------------------------------------------------------------------------


def _confirmed(tenant, **kwargs):
    from .test_takeover import confirm

    return confirm(factories.ServiceRequestFactory(tenant_on_record=tenant, **kwargs))


def test_a_second_request_for_the_same_tenant_is_flagged_and_blocks_both(db, agent, deliver):
    from .test_takeover import tenant_with_admin

    approver, linker = factories.supervisor(), factories.supervisor()
    tenant, alice = tenant_with_admin(signed_in_days_ago=None)
    first = _confirmed(tenant)
    second = _confirmed(tenant, requester_email=f"zoe@{tenant.primary_domain}", requester_name="Zoé")
    deliver()

    assert "Another request" in emails_to(first.requester_email)[-1].subject
    assert "Another request" in emails_to(second.requester_email)[-1].subject
    assert first.reference in emails_to(alice.email)[-1].body, "the admin's warning names the concurrent request"
    assert "Concurrent" in emails_to(approver.email)[-1].subject
    for sr in (first, second):
        page = staff_client(Client(), agent).get(ADMIN_URL.format(sr.pk)).content.decode()
        assert 'id="concurrent"' in page

    services.service_request_match_tenant(service_request=first, tenant=tenant, actor=actor(agent))
    from .flow import pass_checks

    pass_checks(first, kinds=[k for k in CheckKind.values if k != CheckKind.EMAIL_CONFIRMED and k != CheckKind.DOMAIN_DNS])
    ServiceRequest.objects.filter(pk=first.pk).update(status=Status.VERIFIED)
    services.elevation_propose(service_request=first, actor=actor(agent), email=first.elevate_email)
    with pytest.raises(DomainError, match=second.reference):
        approve(first, approver)

    services.service_requests_link(
        service_request=first, other=second, actor=actor(linker), reason="Both from Fabrikam's office, same person to elevate."
    )
    assert RequestLink.objects.count() == 1
    approve(first, approver)
    assert ServiceRequest.objects.get(pk=first.pk).status == Status.COOLING_OFF


def test_rejecting_one_of_two_concurrent_requests_unblocks_the_other(db, agent):
    approver = factories.supervisor()
    tenant = factories.TenantFactory()
    first = _confirmed(tenant)
    second = _confirmed(tenant, requester_email=f"zoe@{tenant.primary_domain}")
    services.service_request_reject(service_request=second, actor=actor(agent), reason="Duplicate.")
    from .flow import pass_checks

    services.service_request_match_tenant(service_request=first, tenant=tenant, actor=actor(agent))
    pass_checks(first)
    ServiceRequest.objects.filter(pk=first.pk).update(status=Status.VERIFIED)
    services.elevation_propose(service_request=first, actor=actor(agent), email=first.elevate_email)
    approve(first, approver)


def test_a_request_filed_during_another_s_waiting_period_holds_it(db, agent, supervisor):
    sr = proposed_request(agent)
    approve(sr, supervisor)
    rival = _confirmed(sr.tenant, requester_email=f"zoe@{sr.tenant.primary_domain}")
    assert complete(sr).status == Status.COOLING_OFF, "the waiting elevation does not complete beside an unlinked rival"
    services.service_request_reject(service_request=rival, actor=actor(agent), reason="Impostor.")
    assert complete(sr).status == Status.ELEVATED


def test_only_supervisors_link_and_only_concurrent_requests(db, agent):
    tenant = factories.TenantFactory()
    first = _confirmed(tenant)
    second = _confirmed(tenant, requester_email=f"zoe@{tenant.primary_domain}")
    unrelated = _confirmed(factories.TenantFactory())
    with pytest.raises(DomainError, match="supervisor"):
        services.service_requests_link(service_request=first, other=second, actor=actor(agent), reason="Same.")
    with pytest.raises(DomainError, match="not concurrent"):
        services.service_requests_link(service_request=first, other=unrelated, actor=actor(factories.supervisor()), reason="Why not.")
    assert not RequestLink.objects.exists()


# --- A shorter waiting period ------------------------------------------------------------------------------------


def test_a_supervisor_shortens_the_wait_with_a_reason_never_below_the_minimum(db, agent, supervisor, deliver, settings):
    sr = proposed_request(agent)
    elevation = approve(sr, supervisor)
    shortener = factories.supervisor()
    with pytest.raises(DomainError, match="cannot be shorter than 60 minutes"):
        services.elevation_shorten_waiting(service_request=sr, actor=actor(shortener), minutes=59, reason="Urgent.")
    with pytest.raises(DomainError, match="Say why"):
        services.elevation_shorten_waiting(service_request=sr, actor=actor(shortener), minutes=120, reason="")
    with pytest.raises(DomainError, match="supervisor"):
        services.elevation_shorten_waiting(service_request=sr, actor=actor(agent), minutes=120, reason="Urgent.")

    services.elevation_shorten_waiting(
        service_request=sr,
        actor=actor(shortener),
        minutes=60,
        reason="Payroll must run today; the CEO called back on the number on record.",
    )

    elevation.refresh_from_db()
    assert elevation.effective_at == elevation.waiting_started_at + timedelta(minutes=60)
    deliver()
    assert "shortened" in emails_to(sr.elevate_email)[-1].body
    with travel(timedelta(minutes=61)):
        services.elevations_complete_due()
    assert ServiceRequest.objects.get(pk=sr.pk).status == Status.ELEVATED


# --- The request page in every status ------------------------------------------------------------------------------


@pytest.mark.parametrize("status", Status.values)
def test_the_request_page_renders_in_every_status(db, agent, status):
    from django.utils import timezone

    from tickets.models import Objection

    supervisor = factories.supervisor()
    sr = verified_request()
    ServiceRequest.objects.filter(pk=sr.pk).update(status=status)
    if status in (Status.ELEVATION_PROPOSED, Status.COOLING_OFF, Status.DISPUTED, Status.ELEVATED):
        moment = timezone.now()
        approval = (
            {}
            if status == Status.ELEVATION_PROPOSED
            else {
                "approved_by": supervisor,
                "approved_at": moment,
                "waiting_started_at": moment,
                "effective_at": moment + timedelta(hours=72),
            }
        )
        if status == Status.ELEVATED:
            approval["completed_at"] = moment + timedelta(hours=72)
        Elevation.objects.create(service_request=sr, email=sr.elevate_email, proposed_by=agent, **approval)
    if status == Status.DISPUTED:
        Objection.objects.create(service_request=sr, raised_by="alice@example.org", message="Not me.")

    page = staff_client(Client(), factories.supervisor()).get(ADMIN_URL.format(sr.pk))

    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="global-admins"' in html and 'id="proof"' in html
    assert ('id="effective-at"' in html) == (status == Status.COOLING_OFF), "on hold, nothing is about to take effect"
    assert ('value="resolve_objection"' in html) == (status == Status.DISPUTED)
    assert ('value="shorten_waiting"' in html) == (status == Status.COOLING_OFF)
    closed = (Status.ELEVATED, Status.REJECTED, Status.CANCELLED, Status.EXPIRED)
    assert ('name="action" value="reject"' in html) == (status not in closed and status != Status.DISPUTED), (
        "a disputed request is rejected only by resolving its objection"
    )
