"""The service request's state machine: the one place that changes a request's status.

Adding a status means adding it to ``Status``, to ``TRANSITIONS`` and, if people must
hear of it, to ``tickets.notify.ON_ENTER``.
"""

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from audit.services import Actor, audit_event_record
from portal.clock import now
from portal.errors import DomainError

from .models import ServiceRequest, Status
from .notify import notify_status_entered
from .policy import CLOSED, CONTESTABLE, OPEN, SLA_RUNNING, STAFF_ROLES, Role  # noqa: F401  (re-exported)

# The roles, by their short names in the table below.
REQUESTER, AGENT, SUPERVISOR, OBJECTOR, SYSTEM = Role.REQUESTER, Role.AGENT, Role.SUPERVISOR, Role.OBJECTOR, Role.SYSTEM
STAFF = STAFF_ROLES

# (from, to) -> roles allowed to make that move.
TRANSITIONS: dict[tuple[str, str], frozenset[str]] = {
    (Status.AWAITING_EMAIL_CONFIRMATION, Status.NEW): frozenset({REQUESTER}),
    (Status.AWAITING_EMAIL_CONFIRMATION, Status.EXPIRED): frozenset({SYSTEM}),
    (Status.NEW, Status.IN_REVIEW): STAFF,
    (Status.NEW, Status.WAITING_ON_REQUESTER): STAFF,
    (Status.IN_REVIEW, Status.WAITING_ON_REQUESTER): STAFF,
    (Status.WAITING_ON_REQUESTER, Status.IN_REVIEW): STAFF | {REQUESTER},
    # The last check to pass may be the DNS proof, found by the periodic lookup.
    (Status.IN_REVIEW, Status.VERIFIED): STAFF | {SYSTEM},
    # A failed check, another tenant, or the requester's new evidence or reply.
    (Status.VERIFIED, Status.IN_REVIEW): STAFF | {REQUESTER},
    (Status.VERIFIED, Status.ELEVATION_PROPOSED): STAFF,
    (Status.ELEVATION_PROPOSED, Status.IN_REVIEW): STAFF | {REQUESTER},
    (Status.ELEVATION_PROPOSED, Status.COOLING_OFF): frozenset({SUPERVISOR}),
    # A supervisor withdraws an approval that has not taken effect yet.
    (Status.COOLING_OFF, Status.IN_REVIEW): frozenset({SUPERVISOR}),
    # Only the beat task completes an elevation, when the waiting period has passed unobjected.
    (Status.COOLING_OFF, Status.ELEVATED): frozenset({SYSTEM}),
    # A dispute is resolved by a supervisor who neither proposed nor approved (checked by the service).
    (Status.DISPUTED, Status.COOLING_OFF): frozenset({SUPERVISOR}),
    (Status.DISPUTED, Status.IN_REVIEW): frozenset({SUPERVISOR}),
    (Status.DISPUTED, Status.REJECTED): frozenset({SUPERVISOR}),
    (Status.DISPUTED, Status.CANCELLED): frozenset({REQUESTER}),
}
for _open in CONTESTABLE:
    # An objection from an emailed link, or the system when an admin shows signs of life.
    TRANSITIONS[(_open, Status.DISPUTED)] = frozenset({OBJECTOR, SYSTEM})
for _open in OPEN - {Status.DISPUTED}:
    TRANSITIONS[(_open, Status.REJECTED)] = STAFF
    TRANSITIONS[(_open, Status.CANCELLED)] = frozenset({REQUESTER})


class TransitionError(DomainError):
    """A move the state machine forbids."""


@dataclass(frozen=True)
class Change:
    service_request: ServiceRequest
    before: str
    after: str


def allowed_targets(status: str, role: str) -> list[str]:
    return [to for (frm, to), roles in TRANSITIONS.items() if frm == status and role in roles]


def check_transition(service_request: ServiceRequest, to: str, role: str) -> None:
    roles = TRANSITIONS.get((service_request.status, to))
    if roles is None:
        raise TransitionError(
            _("A request that is “%(current)s” cannot become “%(target)s”.")
            % {"current": Status(service_request.status).label, "target": Status(to).label}
        )
    if role not in roles:
        raise TransitionError(_("You are not allowed to move this request to “%(target)s”.") % {"target": Status(to).label})


def lock(service_request: ServiceRequest | int) -> ServiceRequest:
    """Re-read the request with a row lock; callers must be inside a transaction."""
    pk = service_request.pk if isinstance(service_request, ServiceRequest) else service_request
    return ServiceRequest.objects.select_for_update().get(pk=pk)


def transition(
    service_request: ServiceRequest,
    to: str,
    *,
    actor: Actor,
    role: str,
    note: str = "",
    secrets: dict[str, str] | None = None,
) -> ServiceRequest:
    """Move a request to ``to`` if the table allows ``role`` to; atomic, row-locked.

    Writes a ``status.changed`` audit event and the notifications of the new status in the
    same transaction. Raises ``TransitionError`` (nothing written) when the move is forbidden.
    """
    with transaction.atomic():
        sr = lock(service_request)
        check_transition(sr, to, role)
        before = sr.status
        moment = now()
        sr.status = to
        sr.updated_at = moment
        if to == Status.NEW:
            sr.email_confirmed_at = moment
            sr.sla_due_at = moment + _sla()
        if before == Status.WAITING_ON_REQUESTER and to == Status.IN_REVIEW:
            # The requester answered: support owes the next answer within a full SLA again.
            sr.sla_due_at = moment + _sla()
            sr.sla_alerted_at = None
        if to == Status.DISPUTED or before == Status.DISPUTED:
            # On hold, support owes a decision within the SLA; after it, the clock starts again.
            sr.sla_due_at = moment + _sla()
            sr.sla_alerted_at = None
        if to in CLOSED:
            sr.closed_at = moment
        if to == Status.REJECTED:
            sr.rejection_reason = note
        sr.save()
        audit_event_record(
            actor=actor,
            action="status.changed",
            target=sr,
            tenant=sr.tenant,
            before={"status": before},
            after={"status": to, **({"note": note} if note else {})},
        )
        notify_status_entered(Change(sr, before, to), actor=actor, note=note, secrets=secrets or {})
    return sr


def _sla() -> timedelta:
    return settings.SERVICE_REQUEST_SLA
