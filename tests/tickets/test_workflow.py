"""The state machine: who may move a request from which status to which, and what each move writes."""

import re

import pytest
from django.db import transaction

from accounts.models import Membership
from audit.models import AuditEvent
from audit.services import Actor
from notifications.models import OutboxMessage
from portal.clock import now
from tests import factories
from tests.conftest import actor, emails_to, staff_client
from tickets import services
from tickets.models import CheckKind, CheckOutcome, Elevation, Message, Status, VerificationCheck
from tickets.workflow import (
    AGENT,
    CLOSED,
    OBJECTOR,
    REQUESTER,
    SUPERVISOR,
    SYSTEM,
    DomainError,
    TransitionError,
    transition,
)

S = Status
ROLES = [REQUESTER, AGENT, SUPERVISOR, SYSTEM, OBJECTOR]
STAFF = {AGENT, SUPERVISOR}
OPEN = [S.AWAITING_EMAIL_CONFIRMATION, S.NEW, S.IN_REVIEW, S.WAITING_ON_REQUESTER, S.VERIFIED, S.ELEVATION_PROPOSED, S.COOLING_OFF]
# Confirmed and open: someone told of the request may put it on hold.
CONTESTABLE = [S.NEW, S.IN_REVIEW, S.WAITING_ON_REQUESTER, S.VERIFIED, S.ELEVATION_PROPOSED, S.COOLING_OFF]

# The rules, written out independently of ``tickets.workflow.TRANSITIONS``: (from, to) -> who may.
EXPECTED = {
    (S.AWAITING_EMAIL_CONFIRMATION, S.NEW): {REQUESTER},
    (S.AWAITING_EMAIL_CONFIRMATION, S.EXPIRED): {SYSTEM},
    (S.NEW, S.IN_REVIEW): STAFF,
    (S.NEW, S.WAITING_ON_REQUESTER): STAFF,
    (S.IN_REVIEW, S.WAITING_ON_REQUESTER): STAFF,
    (S.WAITING_ON_REQUESTER, S.IN_REVIEW): STAFF | {REQUESTER},
    (S.IN_REVIEW, S.VERIFIED): STAFF | {SYSTEM},
    (S.VERIFIED, S.IN_REVIEW): STAFF | {REQUESTER},
    (S.VERIFIED, S.ELEVATION_PROPOSED): STAFF,
    (S.ELEVATION_PROPOSED, S.IN_REVIEW): STAFF | {REQUESTER},
    (S.ELEVATION_PROPOSED, S.COOLING_OFF): {SUPERVISOR},
    (S.COOLING_OFF, S.IN_REVIEW): {SUPERVISOR},
    (S.COOLING_OFF, S.ELEVATED): {SYSTEM},
    (S.DISPUTED, S.COOLING_OFF): {SUPERVISOR},
    (S.DISPUTED, S.IN_REVIEW): {SUPERVISOR},
    (S.DISPUTED, S.REJECTED): {SUPERVISOR},
    (S.DISPUTED, S.CANCELLED): {REQUESTER},
    **{(s, S.DISPUTED): {OBJECTOR, SYSTEM} for s in CONTESTABLE},
    **{(s, S.REJECTED): STAFF for s in OPEN},
    **{(s, S.CANCELLED): {REQUESTER} for s in OPEN},
}

MATRIX = [pytest.param(frm, to, role, id=f"{frm}->{to}-{role}") for frm in S.values for to in S.values for role in ROLES]


def _actor_for(role, sr):
    if role == OBJECTOR:
        return Actor(kind="objector", label=f"objector <admin@{sr.company_domain}>")
    if role == REQUESTER:
        return Actor(kind="requester", label=f"requester <{sr.requester_email}>")
    if role == SYSTEM:
        return Actor.system()
    return Actor(kind="staff", label=f"{role}@support.example")


def _request_in(status, **kwargs):
    """A request in ``status`` with what its next moves need: a matched tenant and, late on, an elevation."""
    tenant = factories.TenantFactory()
    return factories.ServiceRequestFactory(tenant_on_record=tenant, tenant=tenant, status=status, **kwargs)


def _add_elevation(sr, proposed_by=None, user=None, approved=False):
    moment = now()
    return Elevation.objects.create(
        service_request=sr,
        email=f"luc@{sr.company_domain}",
        full_name="Luc Bernard",
        proposed_by=proposed_by or factories.UserFactory(),
        user=user,
        **(
            {"approved_by": factories.UserFactory(), "approved_at": moment, "waiting_started_at": moment, "effective_at": moment}
            if approved
            else {}
        ),
    )


def _counts():
    return AuditEvent.objects.count(), OutboxMessage.objects.count()


def test_the_table_is_the_one_written_here():
    """A change to who may do what must be deliberate: it shows here as a readable difference."""
    from tickets.workflow import TRANSITIONS

    assert {k: set(v) for k, v in TRANSITIONS.items() if v} == EXPECTED
    assert len(MATRIX) == len(S.values) ** 2 * len(ROLES)
    assert not any(frm in CLOSED for frm, _ in EXPECTED), "nobody reopens a closed request"
    assert [k for k, roles in EXPECTED.items() if k[1] == S.ELEVATED] == [(S.COOLING_OFF, S.ELEVATED)]
    assert EXPECTED[(S.COOLING_OFF, S.ELEVATED)] == {SYSTEM}, "only the beat task, after the waiting period"


@pytest.mark.parametrize("frm, to, role", MATRIX)
def test_transition_obeys_the_table(db, frm, to, role):
    sr = _request_in(frm)
    if to in (S.ELEVATION_PROPOSED, S.ELEVATED, S.COOLING_OFF):
        _add_elevation(sr, user=factories.UserFactory(email=f"luc@{sr.company_domain}"), approved=True)
    before = _counts()

    if role in EXPECTED.get((frm, to), set()):
        transition(sr, to, actor=_actor_for(role, sr), role=role, note="a note", secrets={"tracking_token": "raw-token"})
        sr.refresh_from_db()
        assert sr.status == to
        assert (sr.closed_at is not None) == (to in CLOSED)
        events = AuditEvent.objects.filter(action="status.changed", target_id=str(sr.pk))
        assert [(e.before["status"], e.after["status"]) for e in events] == [(frm, to)]
        assert AuditEvent.objects.count() == before[0] + 1
    else:
        with pytest.raises(TransitionError):
            transition(sr, to, actor=_actor_for(role, sr), role=role, note="a note", secrets={"tracking_token": "raw-token"})
        sr.refresh_from_db()
        assert sr.status == frm
        assert sr.closed_at is None
        assert _counts() == before, "a refused move writes no audit event and no notification"


# --- The same rules through the screens people use -------------------------------------------------------------


def _admin_url(sr):
    return f"/admin/tickets/servicerequest/{sr.pk}/change/"


def _error_messages(html):
    """The texts of the admin's error messages on the page."""
    return re.findall(r'<li class="error">(.*?)</li>', html, re.S)


def test_agent_posting_approve_gets_an_error_on_the_page(agent_client, agent):
    sr = _request_in(S.ELEVATION_PROPOSED)
    elevation = _add_elevation(sr, proposed_by=factories.supervisor())
    before = _counts()

    response = agent_client.post(_admin_url(sr), {"action": "approve_elevation", **_approve_data(elevation)})

    assert response.status_code == 200
    assert _error_messages(response.content.decode()) == ["Only a support supervisor can approve an elevation."]
    sr.refresh_from_db()
    assert sr.status == S.ELEVATION_PROPOSED
    assert sr.elevation.approved_at is None
    assert not Membership.objects.filter(tenant=sr.tenant, role="global_admin").exists()
    assert _counts() == before


def test_requester_cannot_cancel_a_rejected_request(client, db):
    sr, raw = factories.tracked_request(_request_in(S.IN_REVIEW))
    services.service_request_reject(service_request=sr, actor=actor(factories.agent()), reason="Not your domain.")
    url = factories.tracking_path(sr, raw)
    page = client.get(url).content.decode()
    assert 'value="cancel"' not in page, "no cancel button on a rejected request"
    before = _counts()

    response = client.post(url, {"token": raw, "action": "cancel", "confirm": "yes"})

    assert response.status_code == 200
    html = response.content.decode()
    assert "alert-danger" in html and "cannot become" in html and "Cancelled" in html
    assert "Not your domain." in html
    sr.refresh_from_db()
    assert sr.status == S.REJECTED
    assert _counts() == before


def _approve_data(elevation):
    """What the approve button carries: the proposal the supervisor read."""
    return {"approve_elevation-elevation_id": elevation.pk, "approve_elevation-email": elevation.email}


def _action_data(action, sr):
    return {
        "assign": {},
        "match_tenant": {"match_tenant-tenant": sr.tenant_id},
        "message": {"message-kind": "public", "message-body": "Any news?"},
        "ask_information": {"ask_information-body": "Send us a new ID."},
        "record_check": {
            "record_check-kind": CheckKind.IDENTITY_EVIDENCE,
            "record_check-outcome": "passed",
            "record_check-note": "ok",
        },
        "reject": {"reject-reason": "Rejected again."},
        "propose_elevation": {"propose_elevation-email": sr.elevate_email, "propose_elevation-full_name": "Luc"},
        "approve_elevation": _approve_data(sr.elevation),
        "send_back": {"send_back-note": "Look again."},
    }[action]


@pytest.mark.parametrize("who", ["agent", "supervisor"])
@pytest.mark.parametrize(
    "action",
    [
        "assign",
        "match_tenant",
        "message",
        "ask_information",
        "record_check",
        "reject",
        "propose_elevation",
        "approve_elevation",
        "send_back",
    ],
)
def test_no_action_changes_a_rejected_request(client, db, action, who):
    proposer = factories.agent()
    sr = _request_in(S.ELEVATION_PROPOSED)
    _add_elevation(sr, proposed_by=proposer)
    services.service_request_reject(service_request=sr, actor=actor(proposer), reason="Impostor.")
    user = proposer if who == "agent" else factories.supervisor()
    before = (*_counts(), Message.objects.count(), VerificationCheck.objects.count(), Elevation.objects.count())

    response = staff_client(client, user).post(_admin_url(sr), {"action": action, **_action_data(action, sr)})

    assert response.status_code == 200
    html = response.content.decode()
    errors = _error_messages(html)
    assert len(errors) == 1 and "correct the errors" not in errors[0], errors
    sr.refresh_from_db()
    assert sr.status == S.REJECTED
    assert sr.rejection_reason == "Impostor."
    after = (*_counts(), Message.objects.count(), VerificationCheck.objects.count(), Elevation.objects.count())
    assert after == before, "nothing is written on a rejected request"


@pytest.mark.parametrize("reason", ["", "   "])
def test_reject_without_a_reason_is_refused(agent_client, agent, reason):
    sr = _request_in(S.IN_REVIEW)
    before = _counts()

    response = agent_client.post(_admin_url(sr), {"action": "reject", "reject-reason": reason})

    assert response.status_code == 200
    assert "This field is required." in response.content.decode()
    sr.refresh_from_db()
    assert sr.status == S.IN_REVIEW
    with pytest.raises(DomainError, match="reason"):
        services.service_request_reject(service_request=sr, actor=actor(agent), reason=reason)
    sr.refresh_from_db()
    assert sr.status == S.IN_REVIEW
    assert _counts() == before


# --- Notifications are written with the change ------------------------------------------------------------------


def _rows(sr):
    return sorted(
        (m.template, m.to_email) for m in OutboxMessage.objects.filter(target_id=str(sr.pk), target_type="tickets.servicerequest")
    )


def test_rejecting_tells_the_requester_why(db, agent, deliver):
    sr = _request_in(S.IN_REVIEW)

    services.service_request_reject(service_request=sr, actor=actor(agent), reason="The domain is not yours.")

    assert _rows(sr) == [("rejected", sr.requester_email)]
    assert OutboxMessage.objects.get().context["reason"] == "The domain is not yours."
    deliver()
    [email] = emails_to(sr.requester_email)
    assert "The domain is not yours." in email.body


def test_entering_the_queue_tells_the_requester_and_every_agent(db):
    agents = [factories.agent(), factories.agent()]
    supervisor = factories.supervisor()
    factories.agent(is_active=False)
    factories.UserFactory(is_staff=True)  # staff, but not support
    sr, raw = factories.confirmable_request()

    services.service_request_confirm_email(reference=sr.reference, token=raw)

    expected = [("queue_new", u.email) for u in [*agents, supervisor]] + [("request_received", sr.requester_email)]
    assert _rows(sr) == sorted(expected)
    received = OutboxMessage.objects.get(template="request_received")
    assert received.secrets["tracking_url"].startswith("http") and "token=" in received.secrets["tracking_url"]


@pytest.mark.parametrize(
    "frm, to, role, expected",
    [
        (S.NEW, S.IN_REVIEW, AGENT, {("status_changed", "requester")}),
        (S.IN_REVIEW, S.WAITING_ON_REQUESTER, AGENT, {("information_requested", "requester")}),
        (S.WAITING_ON_REQUESTER, S.IN_REVIEW, REQUESTER, {("requester_replied", "assignee")}),
        (S.WAITING_ON_REQUESTER, S.IN_REVIEW, AGENT, set()),
        (S.IN_REVIEW, S.VERIFIED, AGENT, {("status_changed", "requester")}),
        (S.VERIFIED, S.ELEVATION_PROPOSED, AGENT, {("elevation_proposed", "supervisor")}),
        (S.ELEVATION_PROPOSED, S.COOLING_OFF, SUPERVISOR, {("elevation_scheduled", "requester"), ("takeover_approved", "new admin")}),
        (S.COOLING_OFF, S.ELEVATED, SYSTEM, {("elevated_new_admin", "new admin"), ("elevated_requester", "requester")}),
        (
            S.COOLING_OFF,
            S.DISPUTED,
            OBJECTOR,
            {("objection_raised", "supervisor"), ("objection_raised", "assignee"), ("request_on_hold", "requester")},
        ),
        (S.NEW, S.CANCELLED, REQUESTER, {("status_changed", "requester"), ("status_changed", "assignee")}),
        (S.AWAITING_EMAIL_CONFIRMATION, S.EXPIRED, SYSTEM, {("status_changed", "requester")}),
        (S.VERIFIED, S.REJECTED, SUPERVISOR, {("rejected", "requester")}),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_each_status_notifies_who_must_hear_of_it(db, django_capture_on_commit_callbacks, frm, to, role, expected):
    assignee = factories.agent(email="assignee@support.example")
    supervisor = factories.supervisor(email="boss@support.example")
    sr = _request_in(frm, assignee=assignee)
    new_admin = factories.UserFactory(email=f"luc@{sr.company_domain}")
    if to in (S.ELEVATION_PROPOSED, S.ELEVATED, S.COOLING_OFF) or frm == S.COOLING_OFF:
        _add_elevation(sr, user=new_admin, approved=True)
    who = {"requester": sr.requester_email, "assignee": assignee.email, "supervisor": supervisor.email, "new admin": new_admin.email}
    the_actor = supervisor if role == SUPERVISOR else assignee
    act = actor(the_actor) if role in STAFF else _actor_for(role, sr)

    with django_capture_on_commit_callbacks() as callbacks:
        transition(sr, to, actor=act, role=role, note="We need more.")

    assert set(_rows(sr)) == {(template, who[person]) for template, person in expected}
    assert len(_rows(sr)) == len(expected)
    assert len(callbacks) == len(expected), "each row is handed to the broker once the change is committed"


def test_a_change_whose_notifications_cannot_be_written_is_not_made(db, agent):
    """The notifications are part of the change: if writing them fails, the status does not move."""
    sr = _request_in(S.VERIFIED)  # no elevation: the supervisors' email cannot be written
    with pytest.raises(Elevation.DoesNotExist):
        transition(sr, S.ELEVATION_PROPOSED, actor=actor(agent), role=AGENT)
    sr.refresh_from_db()
    assert sr.status == S.VERIFIED
    assert _counts() == (0, 0)


def test_a_rolled_back_change_leaves_no_notification(db, agent):
    sr = _request_in(S.IN_REVIEW)
    with pytest.raises(RuntimeError), transaction.atomic():
        services.service_request_reject(service_request=sr, actor=actor(agent), reason="No.")
        assert _rows(sr) == [("rejected", sr.requester_email)]
        raise RuntimeError("the caller's transaction fails")
    sr.refresh_from_db()
    assert sr.status == S.IN_REVIEW
    assert _counts() == (0, 0)


# --- The verification checklist ---------------------------------------------------------------------------------

OTHER_CHECKS = [CheckKind.IDENTITY_EVIDENCE, CheckKind.CALLBACK_ON_RECORD, CheckKind.COMPANY_DETAILS, CheckKind.FORMER_ADMIN_GONE]


def confirmed_request(**kwargs):
    """A request whose requester used the emailed link (so the email check passed by itself)."""
    tenant = factories.TenantFactory()
    sr, raw = factories.confirmable_request(tenant_on_record=tenant, **kwargs)
    services.service_request_confirm_email(reference=sr.reference, token=raw)
    sr.refresh_from_db()
    return sr, tenant


def record(sr, agent, kind, outcome=CheckOutcome.PASSED, note=""):
    """Record a check as an agent; returns the request as it stands afterwards."""
    check = services.verification_check_record(service_request=sr, actor=actor(agent), kind=kind, outcome=outcome, note=note)
    return check.service_request


def test_confirmation_passes_the_email_check_by_itself(db):
    sr, _ = confirmed_request()
    assert sr.status == S.NEW
    [check] = sr.checks.all()
    assert (check.kind, check.outcome) == (CheckKind.EMAIL_CONFIRMED, CheckOutcome.PASSED)


def test_all_required_checks_passed_verify_the_request(db, agent):
    sr, tenant = confirmed_request()
    sr = services.service_request_match_tenant(service_request=sr, tenant=tenant, actor=actor(agent))
    for kind in OTHER_CHECKS[:-1]:
        sr = record(sr, agent, kind)
        assert sr.status == S.IN_REVIEW, f"not verified before every check passed ({kind})"

    sr = record(sr, agent, OTHER_CHECKS[-1])

    assert sr.status == S.VERIFIED
    assert ("status_changed", sr.requester_email) in _rows(sr)


def test_without_the_email_check_the_request_is_not_verified(db, agent):
    sr = _request_in(S.IN_REVIEW)  # moved on without the emailed link ever being used
    for kind in OTHER_CHECKS:
        record(sr, agent, kind)
    assert sr.status == S.IN_REVIEW


def test_a_failed_check_blocks_verification(db, agent):
    sr, tenant = confirmed_request()
    sr = services.service_request_match_tenant(service_request=sr, tenant=tenant, actor=actor(agent))
    sr = record(sr, agent, CheckKind.IDENTITY_EVIDENCE, CheckOutcome.FAILED, note="The ID card is for someone else.")
    for kind in OTHER_CHECKS[1:]:
        sr = record(sr, agent, kind)
    assert sr.status == S.IN_REVIEW

    sr = record(sr, agent, CheckKind.IDENTITY_EVIDENCE, note="A second, valid ID was sent.")
    assert sr.status == S.VERIFIED, "the latest record of a check is the one that counts"


@pytest.mark.parametrize("outcome", [CheckOutcome.FAILED, CheckOutcome.NOT_POSSIBLE])
def test_a_check_not_passed_on_a_verified_request_sends_it_back_to_review(db, agent, outcome):
    sr, tenant = confirmed_request()
    sr = services.service_request_match_tenant(service_request=sr, tenant=tenant, actor=actor(agent))
    for kind in OTHER_CHECKS:
        sr = record(sr, agent, kind)
    assert sr.status == S.VERIFIED

    sr = record(sr, agent, CheckKind.COMPANY_DETAILS, outcome, note="The registry shows another address.")

    assert sr.status == S.IN_REVIEW
    last = AuditEvent.objects.filter(action="status.changed").order_by("pk").last()
    assert last.before == {"status": S.VERIFIED}
    assert last.after == {"status": S.IN_REVIEW, "note": "The registry shows another address."}


@pytest.mark.parametrize("outcome", [CheckOutcome.FAILED, CheckOutcome.NOT_POSSIBLE])
@pytest.mark.parametrize("note", ["", "  \n "])
def test_a_check_not_passed_needs_a_note(db, agent, outcome, note):
    sr, tenant = confirmed_request()
    checks = sr.checks.count()
    with pytest.raises(DomainError, match="note"):
        record(sr, agent, CheckKind.IDENTITY_EVIDENCE, outcome, note=note)
    assert sr.checks.count() == checks
    assert not AuditEvent.objects.filter(action="check.recorded", actor=agent).exists()


def test_a_check_not_passed_without_a_note_shows_an_error_in_the_admin(agent_client, agent):
    sr, tenant = confirmed_request()
    response = agent_client.post(
        _admin_url(sr),
        {
            "action": "record_check",
            "record_check-kind": CheckKind.IDENTITY_EVIDENCE,
            "record_check-outcome": CheckOutcome.FAILED,
            "record_check-note": "",
        },
    )
    assert response.status_code == 200
    assert _error_messages(response.content.decode()) == ["Say in the note why the check did not pass."]
    assert sr.checks.count() == 1


def test_the_call_back_needs_a_matched_tenant(db, agent):
    sr, _ = confirmed_request()
    with pytest.raises(DomainError, match="Match the tenant first"):
        record(sr, agent, CheckKind.CALLBACK_ON_RECORD)
    assert not sr.checks.filter(kind=CheckKind.CALLBACK_ON_RECORD).exists()


def test_the_call_back_records_the_phone_on_record_never_the_typed_one(db, agent):
    sr, tenant = confirmed_request(requester_phone="+33 6 66 66 66 66", company_phone="+33 9 99 99 99 99")
    assert tenant.phone_on_record not in (sr.requester_phone, sr.company_phone)
    services.service_request_match_tenant(service_request=sr, tenant=tenant, actor=actor(agent))

    record(sr, agent, CheckKind.CALLBACK_ON_RECORD, note="Spoke to the office manager.")

    event = AuditEvent.objects.get(action="check.recorded", after__check=CheckKind.CALLBACK_ON_RECORD)
    assert event.after["phone_called"] == tenant.phone_on_record
    assert event.actor == agent and event.tenant == tenant
    recorded = str(event.before) + str(event.after)
    assert "66 66" not in recorded and "99 99" not in recorded


def test_checks_made_against_another_tenant_must_be_made_again(db, agent):
    """Matching a different tenant sends a verified request back, and its call-back goes to the new number."""
    sr, wrong = confirmed_request()
    sr = services.service_request_match_tenant(service_request=sr, tenant=wrong, actor=actor(agent))
    for kind in OTHER_CHECKS:
        sr = record(sr, agent, kind)
    assert sr.status == S.VERIFIED
    right = factories.TenantFactory(phone_on_record="+33 4 00 00 00 04")

    sr = services.service_request_match_tenant(service_request=sr, tenant=right, actor=actor(agent))
    assert sr.status == S.IN_REVIEW
    sr = record(sr, agent, CheckKind.IDENTITY_EVIDENCE, note="Looked at the ID again.")
    assert sr.status == S.IN_REVIEW, "the call-back and company checks were made against the other tenant"

    sr = record(sr, agent, CheckKind.CALLBACK_ON_RECORD)
    sr = record(sr, agent, CheckKind.COMPANY_DETAILS)
    assert sr.status == S.VERIFIED
    calls = AuditEvent.objects.filter(
        action="check.recorded", after__check=CheckKind.CALLBACK_ON_RECORD, after__outcome=CheckOutcome.PASSED
    )
    assert [e.after["phone_called"] for e in calls.order_by("pk")] == [wrong.phone_on_record, right.phone_on_record]


def test_a_reply_on_an_unassigned_request_reaches_the_agents(db, agent):
    tenant = factories.TenantFactory()
    sr = factories.ServiceRequestFactory(tenant_on_record=tenant, status="in_review")
    services.service_request_ask_information(service_request=sr, actor=actor(agent), body="Which office?")
    sr.assignee = None
    sr.save(update_fields=["assignee"])
    services.service_request_requester_reply(service_request=sr, body="Paris")
    assert OutboxMessage.objects.filter(template="requester_replied", to_email=agent.email).exists()


def test_an_agent_cannot_mark_the_email_confirmed_by_hand(db, agent):
    tenant = factories.TenantFactory()
    sr = factories.ServiceRequestFactory(tenant_on_record=tenant, tenant=tenant, status="in_review")
    with pytest.raises(DomainError, match="requester's own link"):
        services.verification_check_record(
            service_request=sr, actor=actor(agent), kind=CheckKind.EMAIL_CONFIRMED, outcome=CheckOutcome.PASSED
        )
    assert not VerificationCheck.objects.filter(service_request=sr).exists()
