"""What support agents do on a request: assign, match the tenant, talk, reject, link concurrent requests."""

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from accounts.models import Tenant, User
from audit.services import Actor, audit_event_record

from .. import alerts, selectors
from ..models import Message, RequestLink, ServiceRequest, Status
from ..notify import to_requester
from ..policy import DEPENDS_ON_TENANT, IN_QUEUE
from ..workflow import DomainError, lock, transition
from .checks import checks_void, verification_progress
from .common import ensure_open, ensure_reason, staff_role_of, supervisor_of


@transaction.atomic
def service_request_assign(*, service_request: ServiceRequest, actor: Actor, assignee: User | None = None) -> ServiceRequest:
    """Assign the request (to the actor by default). A new request moves to ``in_review``."""
    role = staff_role_of(actor)
    sr = lock(service_request)
    ensure_open(sr)
    assignee = assignee or actor.user
    if selectors.staff_role(assignee) is None:
        raise DomainError(_("Requests can only be assigned to support agents."))
    before = sr.assignee.email if sr.assignee else None
    sr.assignee = assignee
    sr.save(update_fields=["assignee"])
    audit_event_record(
        actor=actor,
        action="request.assigned",
        target=sr,
        tenant=sr.tenant,
        before={"assignee": before},
        after={"assignee": assignee.email},
    )
    if sr.status == Status.NEW:
        sr = transition(sr, Status.IN_REVIEW, actor=actor, role=role)
    return sr


@transaction.atomic
def service_request_match_tenant(*, service_request: ServiceRequest, tenant: Tenant, actor: Actor) -> ServiceRequest:
    """Confirm which tenant the request is about. Writes ``tenant.matched``.

    Checks made against another tenant's record (before matching: the one holding the filed domain, as
    the DNS proof is) are voided. A tenant whose people were not yet told of the request (a different
    tenant from the one holding the filed domain) is warned now, with objection links, as at confirmation.
    """
    role = staff_role_of(actor)
    sr = lock(service_request)
    ensure_open(sr)
    if sr.status in (Status.ELEVATION_PROPOSED, Status.COOLING_OFF, Status.DISPUTED):
        raise DomainError(_("The tenant cannot change while an elevation is proposed, approved or disputed."))
    before = sr.tenant_id
    made_against = selectors.suggested_tenant(sr)
    sr.tenant = tenant
    sr.save(update_fields=["tenant"])
    audit_event_record(
        actor=actor,
        action="tenant.matched",
        target=sr,
        tenant=tenant,
        before={"tenant": before},
        after={"tenant": tenant.pk, "partner_id": tenant.partner_id},
    )
    if made_against is not None and made_against.pk != tenant.pk:
        checks_void(
            service_request=sr, kinds=DEPENDS_ON_TENANT, actor=actor, reason="Tenant changed: to be made again against the new record."
        )
    if sr.status in IN_QUEUE and tenant.pk not in alerts.tenants_already_warned(sr):
        alerts.warn_tenant(sr, tenant, template="takeover_filed", **alerts.filed_context(sr))
    if before != tenant.pk:
        sr = verification_progress(service_request=sr, actor=actor, role=role, note="tenant changed")
    return sr


@transaction.atomic
def service_request_post_message(*, service_request: ServiceRequest, actor: Actor, kind: str, body: str) -> Message:
    """Add a public reply (emailed to the requester) or an internal note (staff only)."""
    staff_role_of(actor)
    if kind not in Message.Kind.values or not body.strip():
        raise DomainError(_("Write a public reply or an internal note."))
    sr = lock(service_request)
    ensure_open(sr)
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
    """Reject with a reason the requester sees. A disputed request is decided by resolving its objection."""
    reason = ensure_reason(reason, _("Give the requester a reason for the rejection."))
    role = staff_role_of(actor)
    sr = lock(service_request)
    if sr.status == Status.DISPUTED:
        raise DomainError(
            _("This request is disputed: a supervisor who neither proposed nor approved it decides, by resolving the objection.")
        )
    return transition(sr, Status.REJECTED, actor=actor, role=role, note=reason)


@transaction.atomic
def service_requests_link(*, service_request: ServiceRequest, other: ServiceRequest, actor: Actor, reason: str) -> RequestLink:
    """A supervisor decides that two concurrent requests for one tenant may both go on (for example,
    two colleagues asking for the same thing). Writes ``request.linked`` on both."""
    supervisor_of(actor, _("Only a support supervisor can link concurrent requests."))
    reason = ensure_reason(reason, _("Say why these requests may go on side by side."))
    first, second = sorted([service_request.pk, other.pk])
    if first == second:
        raise DomainError(_("A request cannot be linked to itself."))
    sr = lock(first)
    other_sr = lock(second)
    ensure_open(sr)
    ensure_open(other_sr)
    if other_sr.pk not in {r.pk for r in selectors.concurrent_requests(sr)}:
        raise DomainError(_("These requests are not concurrent: they concern different tenants."))
    link, created = RequestLink.objects.get_or_create(first=sr, second=other_sr, defaults={"linked_by": actor.user, "reason": reason})
    if created:
        for a, b in ((sr, other_sr), (other_sr, sr)):
            audit_event_record(
                actor=actor, action="request.linked", target=a, tenant=a.tenant, after={"linked_to": b.reference, "reason": reason}
            )
    return link
