"""Objections: anyone told of a request can put it on hold with one click; only an independent
supervisor decides what happens next."""

from datetime import datetime

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from audit.services import Actor, ActorKind, RequestMeta, audit_event_record
from notifications.services import outbox_enqueue
from portal.clock import now

from .. import alerts, selectors, tokens
from ..models import Elevation, Objection, ObjectionLink, ServiceRequest, Status
from ..notify import to_users
from ..policy import CLOSED, CONTESTABLE, waiting_period
from ..workflow import OBJECTOR, SUPERVISOR, SYSTEM, DomainError, lock, transition
from .common import ensure_reason, supervisor_of


class ObjectionLinkInvalid(DomainError):
    """A wrong link, or one whose request has closed: the same message for both."""

    def __init__(self) -> None:
        super().__init__(_("This link is not valid: the request it was about may have closed."))


def objection_link_for(raw_token: str | None) -> ObjectionLink | None:
    """The link this raw token opens, while its request is open; None otherwise."""
    if not raw_token:
        return None
    link = ObjectionLink.objects.select_related("service_request", "tenant").filter(token_hash=tokens.digest(raw_token)).first()
    if link is None or link.service_request.status in CLOSED:
        return None
    return link


def _objector(link: ObjectionLink, meta: RequestMeta | None) -> Actor:
    return Actor(kind=ActorKind.OBJECTOR, label=f"objector <{link.email}>", meta=meta or RequestMeta())


def objection_raise(*, raw_token: str, message: str = "", meta: RequestMeta | None = None) -> Objection:
    """Put the request on hold from an emailed objection link: no account, one click, an optional message.

    Atomic: the objection, an ``objection.raised`` audit event and the move to ``disputed`` (which alerts
    supervisors) are written together. On a request already disputed, the objection is added and
    supervisors are told again. Raises ObjectionLinkInvalid for a wrong link or a closed request.
    """
    link = objection_link_for(raw_token)
    if link is None:
        raise ObjectionLinkInvalid()
    actor = _objector(link, meta)
    with transaction.atomic(durable=True):
        sr = lock(link.service_request)
        if sr.status in CLOSED:
            raise ObjectionLinkInvalid()
        objection = Objection.objects.create(
            service_request=sr,
            link=link,
            raised_by=link.email,
            message=(message or "").strip()[:5000],
            ip_address=getattr(meta, "ip_address", None),
            created_at=now(),
        )
        audit_event_record(
            actor=actor,
            action="objection.raised",
            target=sr,
            tenant=link.tenant or sr.tenant,
            after={"by": link.email, "why_told": link.why, "message": objection.message, "objection": objection.pk},
        )
        if sr.status in CONTESTABLE:
            transition(sr, Status.DISPUTED, actor=actor, role=OBJECTOR, note=objection.message)
        else:  # already on hold (or awaiting confirmation, which no link reaches)
            to_users(selectors.support_supervisors(), sr, "objection_raised", by=link.email, message=objection.message)
    return objection


def objection_raise_by_system(*, service_request: ServiceRequest, reason: str) -> Objection:
    """The portal itself puts a request on hold (for example, the admin signed in during the waiting
    period). Call inside the caller's transaction with the row locked."""
    objection = Objection.objects.create(service_request=service_request, raised_by="system", message=reason, created_at=now())
    audit_event_record(
        actor=Actor.system(),
        action="objection.raised",
        target=service_request,
        tenant=service_request.tenant,
        after={"by": "system", "message": reason, "objection": objection.pk},
    )
    transition(service_request, Status.DISPUTED, actor=Actor.system(), role=SYSTEM, note=reason)
    return objection


def _tell_objectors(sr: ServiceRequest, objections: list[Objection], *, decision: str, reason: str, effective_at: str = "") -> None:
    for objection in objections:
        if objection.link is None:
            continue
        link = objection.link
        outbox_enqueue(
            template="objection_outcome",
            to_email=link.email,
            language=link.user.preferred_language if link.user is not None else sr.language,
            context={
                "reference": sr.reference,
                "decision": decision,
                "reason": reason,
                "status": sr.status,
                "effective_at": effective_at,
            },
            target=sr,
        )


def _close_open(
    sr: ServiceRequest, *, decision: str, reason: str, by: User | None = None, moment: datetime | None = None
) -> list[Objection]:
    moment = moment or now()
    objections = list(selectors.open_objections(sr).select_related("link__user").select_for_update(of=("self",)))
    for objection in objections:
        objection.resolved_at = moment
        objection.resolved_by = by
        objection.resolution = decision
        objection.resolution_reason = reason
        objection.save(update_fields=["resolved_at", "resolved_by", "resolution", "resolution_reason"])
    return objections


def objections_withdraw(*, service_request: ServiceRequest, actor: Actor) -> None:
    """The requester cancelled a disputed request: its objections are closed and each objector is told.
    Call inside the cancellation's transaction, with the row locked."""
    reason = "The requester cancelled the request."
    objections = _close_open(service_request, decision=Objection.Resolution.WITHDRAWN, reason=reason)
    if objections:
        audit_event_record(
            actor=actor,
            action="objection.resolved",
            target=service_request,
            tenant=service_request.tenant,
            after={"decision": Objection.Resolution.WITHDRAWN, "objections": [o.pk for o in objections]},
        )
        _tell_objectors(service_request, objections, decision=Objection.Resolution.WITHDRAWN, reason=reason)


def objection_resolve(*, service_request: ServiceRequest, actor: Actor, decision: str, reason: str) -> ServiceRequest:
    """A supervisor who neither proposed nor approved the elevation decides a dispute, with a reason.

    ``reject``: the request is rejected (the reason is shown to the requester). ``continue``: an approved
    elevation starts a new, full waiting period and everyone is told again; otherwise the request goes
    back to review. Each objector is told the outcome. Writes ``objection.resolved``.
    """
    supervisor_of(actor, _("Only a support supervisor can resolve an objection."))
    reason = ensure_reason(reason, _("Give the reason for your decision."))
    if decision not in Objection.Resolution.values:
        raise DomainError(_("Choose to reject the request or to continue it."))
    with transaction.atomic(durable=True):
        sr = lock(service_request)
        if sr.status != Status.DISPUTED:
            raise DomainError(_("This request is not disputed."))
        elevation = Elevation.objects.select_for_update().filter(service_request=sr).first()
        if elevation is not None and actor.user.pk in (elevation.proposed_by_id, elevation.approved_by_id):
            raise DomainError(_("You proposed or approved this elevation: another supervisor must decide."))
        moment = now()
        objections = _close_open(sr, decision=decision, reason=reason, by=actor.user, moment=moment)
        audit_event_record(
            actor=actor,
            action="objection.resolved",
            target=sr,
            tenant=sr.tenant,
            after={"decision": decision, "reason": reason, "objections": [o.pk for o in objections]},
        )
        if decision == Objection.Resolution.REJECT:
            sr = transition(sr, Status.REJECTED, actor=actor, role=SUPERVISOR, note=reason)
        elif elevation is not None and elevation.approved_at is not None:
            elevation.waiting_started_at = moment
            elevation.effective_at = moment + waiting_period(sr)
            elevation.save(update_fields=["waiting_started_at", "effective_at"])
            sr = transition(sr, Status.COOLING_OFF, actor=actor, role=SUPERVISOR, note=reason)
        else:
            Elevation.objects.filter(service_request=sr, approved_at__isnull=True).delete()
            sr = transition(sr, Status.IN_REVIEW, actor=actor, role=SUPERVISOR, note=reason)
            if selectors.checks_all_passed(sr) and sr.tenant_id:
                sr = transition(sr, Status.VERIFIED, actor=actor, role=SUPERVISOR)
        effective_at = ""
        if decision == Objection.Resolution.CONTINUE and elevation is not None and elevation.effective_at:
            effective_at = alerts.when(elevation.effective_at)
        _tell_objectors(sr, objections, decision=decision, reason=reason, effective_at=effective_at)
    return sr
