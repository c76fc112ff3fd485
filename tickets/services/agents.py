"""What support agents do on a request: assign, match the tenant, talk, record checks, reject."""

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from audit.services import Actor, audit_event_record

from ..models import CheckKind, CheckOutcome, Message, ServiceRequest, Status, VerificationCheck
from ..notify import to_requester
from ..selectors import checks_all_passed, latest_checks, staff_role
from ..workflow import CLOSED, DomainError, lock, transition


def staff_role_of(actor: Actor) -> str:
    role = staff_role(actor.user)
    if role is None:
        raise DomainError(_("Only support agents and supervisors can do this."))
    return role


def _open(sr: ServiceRequest) -> None:
    if sr.status in CLOSED:
        raise DomainError(_("This request is closed; it can no longer be changed."))


@transaction.atomic
def service_request_assign(*, service_request: ServiceRequest, actor: Actor, assignee=None) -> ServiceRequest:
    """Assign the request (to the actor by default). A new request moves to ``in_review``."""
    role = staff_role_of(actor)
    sr = lock(service_request)
    _open(sr)
    assignee = assignee or actor.user
    if staff_role(assignee) is None:
        raise DomainError(_("Requests can only be assigned to support agents."))
    before = sr.assignee.email if sr.assignee else None
    sr.assignee = assignee
    sr.save(update_fields=["assignee"])
    audit_event_record(actor=actor, action="request.assigned", target=sr, tenant=sr.tenant,
                       before={"assignee": before}, after={"assignee": assignee.email})
    if sr.status == Status.NEW:
        transition(sr, Status.IN_REVIEW, actor=actor, role=role)
    service_request.refresh_from_db()
    return sr


@transaction.atomic
def service_request_match_tenant(*, service_request: ServiceRequest, tenant, actor: Actor) -> ServiceRequest:
    """Confirm which tenant the request is about. Writes ``tenant.matched``."""
    staff_role_of(actor)
    sr = lock(service_request)
    _open(sr)
    if sr.status in (Status.ELEVATION_PROPOSED,):
        raise DomainError(_("The tenant cannot change while an elevation is proposed."))
    before = sr.tenant_id
    sr.tenant = tenant
    sr.save(update_fields=["tenant"])
    audit_event_record(actor=actor, action="tenant.matched", target=sr, tenant=tenant,
                       before={"tenant": before}, after={"tenant": tenant.pk, "partner_id": tenant.partner_id})
    if before is not None and before != tenant.pk:
        # Checks made against the other tenant's record no longer count: they must be made again.
        latest = latest_checks(sr)
        for kind in (CheckKind.CALLBACK_ON_RECORD, CheckKind.COMPANY_DETAILS):
            if kind in latest and latest[kind].outcome == CheckOutcome.PASSED:
                note = "Tenant changed: to be made again against the new record."
                VerificationCheck.objects.create(service_request=sr, kind=kind, outcome=CheckOutcome.NOT_POSSIBLE,
                                                 note=note, agent=actor.user)
                audit_event_record(actor=actor, action="check.recorded", target=sr, tenant=tenant,
                                   after={"check": kind, "outcome": CheckOutcome.NOT_POSSIBLE, "note": note})
    if sr.status == Status.VERIFIED and before != tenant.pk:
        # Checks were made against another record: look again.
        transition(sr, Status.IN_REVIEW, actor=actor, role=staff_role_of(actor), note="tenant changed")
    service_request.refresh_from_db()
    return sr


@transaction.atomic
def service_request_post_message(*, service_request: ServiceRequest, actor: Actor, kind: str, body: str) -> Message:
    """Add a public reply (emailed to the requester) or an internal note (staff only)."""
    staff_role_of(actor)
    if kind not in Message.Kind.values or not body.strip():
        raise DomainError(_("Write a public reply or an internal note."))
    sr = lock(service_request)
    _open(sr)
    message = Message.objects.create(service_request=sr, kind=kind, author=actor.user, body=body)
    audit_event_record(actor=actor, action=f"message.{kind}", target=sr, tenant=sr.tenant)
    if kind == Message.Kind.PUBLIC:
        to_requester(sr, "agent_replied", message=body)
    return message


@transaction.atomic
def service_request_ask_information(*, service_request: ServiceRequest, actor: Actor, body: str) -> ServiceRequest:
    """Ask the requester for something: a public message, and the request waits on them."""
    role = staff_role_of(actor)
    sr = lock(service_request)
    Message.objects.create(service_request=sr, kind=Message.Kind.PUBLIC, author=actor.user, body=body)
    return transition(sr, Status.WAITING_ON_REQUESTER, actor=actor, role=role, note=body)


@transaction.atomic
def service_request_reject(*, service_request: ServiceRequest, actor: Actor, reason: str) -> ServiceRequest:
    """Reject with a reason the requester sees."""
    if not reason.strip():
        raise DomainError(_("Give the requester a reason for the rejection."))
    return transition(service_request, Status.REJECTED, actor=actor, role=staff_role_of(actor), note=reason.strip())


CHECKABLE = {Status.NEW, Status.IN_REVIEW, Status.WAITING_ON_REQUESTER, Status.VERIFIED}


@transaction.atomic
def verification_check_record(
    *, service_request: ServiceRequest, actor: Actor, kind: str, outcome: str, note: str = ""
) -> VerificationCheck:
    """Record one verification check (writes ``check.recorded``).

    When every required check has passed and the tenant is matched, the request becomes
    ``verified``; a failed check takes a verified request back to review.
    """
    role = staff_role_of(actor)
    if kind not in CheckKind.values or outcome not in CheckOutcome.values:
        raise DomainError(_("Unknown check or outcome."))
    if kind == CheckKind.EMAIL_CONFIRMED:
        raise DomainError(_("The work email is confirmed only by the requester's own link."))
    sr = lock(service_request)
    if sr.status not in CHECKABLE:
        raise DomainError(_("Checks can only be recorded while the request is being reviewed."))
    if kind == CheckKind.CALLBACK_ON_RECORD and sr.tenant is None:
        raise DomainError(_("Match the tenant first: the call-back goes to the number on its record."))
    if outcome != CheckOutcome.PASSED and not note.strip():
        raise DomainError(_("Say in the note why the check did not pass."))
    check = VerificationCheck.objects.create(service_request=sr, kind=kind, outcome=outcome, note=note, agent=actor.user)
    audit_event_record(actor=actor, action="check.recorded", target=sr, tenant=sr.tenant,
                       after={"check": kind, "outcome": outcome, "note": note,
                              **({"phone_called": sr.tenant.phone_on_record} if kind == CheckKind.CALLBACK_ON_RECORD else {})})
    if sr.status == Status.NEW:
        transition(sr, Status.IN_REVIEW, actor=actor, role=role)
        sr.refresh_from_db()
    if sr.status == Status.IN_REVIEW and sr.tenant_id and checks_all_passed(sr):
        transition(sr, Status.VERIFIED, actor=actor, role=role)
    elif sr.status == Status.VERIFIED and outcome != CheckOutcome.PASSED:
        transition(sr, Status.IN_REVIEW, actor=actor, role=role, note=note)
    service_request.refresh_from_db()
    return check
