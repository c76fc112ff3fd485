"""Elevation: an agent proposes who becomes global admin, a different supervisor approves, and the
change takes effect only after a waiting period in which the people told of it may object."""

import logging
from datetime import timedelta

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from accounts import selectors as account_selectors
from accounts.models import Membership, User
from accounts.services import membership_set_role, user_create_inactive
from accounts.services.users import password_link, user_reactivate_for_elevation
from audit.services import Actor, audit_event_record
from portal.clock import now
from portal.errors import StrOrPromise

from .. import alerts, selectors
from ..models import Elevation, ServiceRequest, Status
from ..notify import to_requester
from ..policy import DEPENDS_ON_REQUESTER, waiting_minimum, waiting_period
from ..workflow import SUPERVISOR, SYSTEM, DomainError, lock, transition
from .checks import checks_void
from .common import ensure_open, ensure_reason, staff_role_of, supervisor_of, tenant_of
from .objections import objection_raise_by_system

logger = logging.getLogger(__name__)


def _eligible(sr: ServiceRequest, email: str) -> User | None:
    """The account behind ``email`` if it may become the tenant's global admin (None: a new account)."""
    tenant = tenant_of(sr)
    if not account_selectors.tenant_owns_email(tenant, email):
        raise DomainError(_("%(email)s is not on a verified domain of %(tenant)s.") % {"email": email, "tenant": tenant.legal_name})
    user = account_selectors.user_by_email(email)
    if user is not None and user.is_staff:
        raise DomainError(_("A support staff account cannot be made a tenant's global admin."))
    return user


@transaction.atomic
def elevation_propose(*, service_request: ServiceRequest, actor: Actor, email: str, full_name: str = "", note: str = "") -> Elevation:
    """Propose ``email`` as the tenant's new global admin. Only a verified request can be proposed.

    Proposing someone other than the user the requester named is flagged, needs a note, and the
    requester and the tenant's people are told who is proposed (the latter with objection links).
    """
    role = staff_role_of(actor)
    sr = lock(service_request)
    if sr.status != Status.VERIFIED:
        raise DomainError(_("Only a verified request can have an elevation proposed."))
    email = email.strip().lower()
    existing = _eligible(sr, email)
    differs = email != sr.elevate_email.strip().lower()
    if differs and not note.strip():
        raise DomainError(
            _("%(email)s is not the user the requester named (%(named)s): say why in the note.")
            % {"email": email, "named": sr.elevate_email}
        )
    Elevation.objects.filter(service_request=sr, approved_at__isnull=True).delete()
    elevation = Elevation.objects.create(
        service_request=sr,
        email=email,
        full_name=full_name or (existing.full_name if existing else ""),
        proposed_by=actor.user,
        proposed_at=now(),
        differs_from_request=differs,
        note=note.strip(),
    )
    audit_event_record(
        actor=actor,
        action="elevation.proposed",
        target=sr,
        tenant=sr.tenant,
        after={
            "email": email,
            "existing_user": existing is not None,
            "elevation": elevation.pk,
            **({"differs_from_request": True, "note": note.strip()} if differs else {}),
        },
    )
    if differs:
        to_requester(sr, "elevation_other_user_requester", proposed_email=email, named_email=sr.elevate_email)
        alerts.warn_everyone(
            sr, template="takeover_other_user", proposed_user=existing, proposed_email=email, proposed=email, named=sr.elevate_email
        )
    transition(sr, Status.ELEVATION_PROPOSED, actor=actor, role=role)
    return elevation


def _changed_message(elevation: Elevation | None, elevation_id: int | str, email: str) -> StrOrPromise:
    if elevation is None:
        return _("The proposal you reviewed (%(email)s) was withdrawn: there is nothing to approve now.") % {"email": email}
    return _(
        "The proposal changed since you opened the page: you reviewed %(old)s (proposal #%(old_id)s); it is now "
        "%(new)s (proposal #%(new_id)s). Review the request again before approving."
    ) % {"old": email or "—", "old_id": elevation_id or "—", "new": elevation.email, "new_id": elevation.pk}


def _approval_blockers(sr: ServiceRequest) -> None:
    """What must hold at approval, re-checked: the proof, no recent active admin, no unlinked concurrent request."""
    if not selectors.checks_all_passed(sr):
        raise DomainError(_("The verification checks are no longer complete: the request must be reviewed again."))
    if not sr.admin_block_override_at:
        blockers = list(selectors.blocking_admins(sr.tenant))
        if blockers:
            raise DomainError(
                _(
                    "%(admins)s, an active global admin of this tenant, signed in recently: support "
                    "cannot name another admin unless a supervisor records an override."
                )
                % {"admins": ", ".join(u.email for u in blockers)}
            )
    concurrent = selectors.unlinked_concurrent(sr)
    if concurrent:
        raise DomainError(
            _(
                "Another open request concerns this tenant (%(refs)s): a supervisor must link them "
                "or reject one before either is approved."
            )
            % {"refs": ", ".join(r.reference for r in concurrent)}
        )


def elevation_approve(*, service_request: ServiceRequest, actor: Actor, elevation_id: int | str, email: str) -> Elevation:
    """Approve the proposal the supervisor reviewed: exactly once, by a supervisor who did not propose it.

    ``elevation_id`` and ``email`` are those on the page the supervisor read; if the proposal changed
    since, nothing is approved and the message says what changed. Atomic and row-locked: when two
    supervisors approve at once, the second sees a DomainError. Approval starts the waiting period
    (``cooling_off``); the role is granted later by ``elevation_complete``. Writes ``elevation.approved``.
    """
    supervisor_of(actor, _("Only a support supervisor can approve an elevation."))
    with transaction.atomic(durable=True):
        sr = lock(service_request)
        if sr.status in (Status.COOLING_OFF, Status.ELEVATED):
            raise DomainError(_("This elevation has already been approved."))
        if sr.status != Status.ELEVATION_PROPOSED:
            raise DomainError(_("There is no proposed elevation to approve."))
        elevation = Elevation.objects.select_for_update().filter(service_request=sr).first()
        email = (email or "").strip().lower()
        if elevation is None or str(elevation.pk) != str(elevation_id) or elevation.email != email:
            raise DomainError(_changed_message(elevation, elevation_id, email))
        if elevation.proposed_by_id == actor.user.pk:
            raise DomainError(_("Two people are needed: someone other than the proposer must approve."))
        _eligible(sr, elevation.email)
        _approval_blockers(sr)
        moment = now()
        elevation.approved_by = actor.user
        elevation.approved_at = moment
        elevation.waiting_started_at = moment
        elevation.effective_at = moment + waiting_period(sr)
        elevation.save()
        audit_event_record(
            actor=actor,
            action="elevation.approved",
            target=sr,
            tenant=sr.tenant,
            after={
                "email": elevation.email,
                "proposed_by": elevation.proposed_by.email,
                "elevation": elevation.pk,
                "effective_at": elevation.effective_at.isoformat(),
            },
        )
        transition(sr, Status.COOLING_OFF, actor=actor, role=SUPERVISOR)
    return elevation


def _hold_reason(sr: ServiceRequest, elevation: Elevation) -> str:
    """Why an elevation due now must not take effect, or ""."""
    tenant = tenant_of(sr)
    signed_in = list(selectors.admins_signed_in_since(tenant, elevation.waiting_started_at or elevation.proposed_at))
    if not sr.admin_block_override_at:
        signed_in += [u for u in selectors.blocking_admins(tenant) if u not in signed_in]
    if signed_in:
        return "An active global admin signed in during the waiting period: " + ", ".join(u.email for u in signed_in)
    if not account_selectors.tenant_owns_email(tenant, elevation.email):
        return f"{elevation.email} is no longer on a verified domain of the tenant."
    user = account_selectors.user_by_email(elevation.email)
    if user is not None and user.is_staff:
        return f"{elevation.email} has become a support staff account."
    return ""


def elevation_complete(*, service_request_id: int) -> ServiceRequest | None:
    """Make an approved elevation take effect once its waiting period has passed unobjected.

    Exactly once: the request row is locked and its status checked inside one transaction, so two
    beat runs or workers at once give one elevation, and a worker that dies mid-way leaves nothing
    (the next run does it). A sign that the admin is not gone (an active global admin signed in during
    the period) puts the request on hold instead (``disputed``). While an unlinked concurrent request
    is open it waits. Returns the request if it moved.
    """
    actor = Actor.system()
    with transaction.atomic(durable=True):
        sr = ServiceRequest.objects.select_for_update().filter(pk=service_request_id).first()
        if sr is None or sr.status != Status.COOLING_OFF:
            return None
        elevation = Elevation.objects.select_for_update().get(service_request=sr)
        if elevation.effective_at is None or elevation.effective_at > now() or elevation.completed_at:
            return None
        if selectors.open_objections(sr).exists() or selectors.unlinked_concurrent(sr):
            return None
        reason = _hold_reason(sr, elevation)
        if reason:
            objection_raise_by_system(service_request=sr, reason=reason)
            return sr
        tenant = tenant_of(sr)
        user = account_selectors.user_by_email(elevation.email)
        secrets: dict[str, str] = {}
        if user is None:  # inactive until its single-use link sets a password
            user = user_create_inactive(
                actor=actor, email=elevation.email, full_name=elevation.full_name, tenant=tenant, language=sr.language
            )
        elif not user.is_active:  # a deactivated account comes back only through the new link
            user = user_reactivate_for_elevation(actor=actor, user=user, tenant=tenant)
        if not user.is_active or not user.has_usable_password():
            secrets["set_password_url"] = password_link(user)
        membership_set_role(
            actor=actor, user=user, tenant=tenant, role=Membership.Role.GLOBAL_ADMIN, reason=f"service request {sr.reference}"
        )
        elevation.user = user
        elevation.completed_at = now()
        elevation.save(update_fields=["user", "completed_at"])
        audit_event_record(
            actor=actor,
            action="elevation.completed",
            target=sr,
            tenant=tenant,
            after={
                "user": user.email,
                "proposed_by": elevation.proposed_by.email,
                "approved_by": elevation.approved_by.email if elevation.approved_by else None,
                "elevation": elevation.pk,
            },
        )
        return transition(sr, Status.ELEVATED, actor=actor, role=SYSTEM, secrets=secrets)


def elevations_complete_due() -> int:
    """Beat: complete every elevation whose waiting period has passed. Idempotent; one request that fails
    (logged) does not keep the others waiting, and is tried again at the next tick."""
    due = ServiceRequest.objects.filter(status=Status.COOLING_OFF, elevation__effective_at__lte=now())
    done = 0
    for pk in due.order_by("elevation__effective_at").values_list("pk", flat=True):
        try:
            done += elevation_complete(service_request_id=pk) is not None
        except Exception:  # noqa: BLE001  (the boundary of one request's unit of work; its transaction rolled back)
            logger.exception("the elevation of service request %s could not complete; next tick tries again", pk)
    return done


@transaction.atomic
def elevation_shorten_waiting(*, service_request: ServiceRequest, actor: Actor, minutes: int, reason: str) -> Elevation:
    """A supervisor shortens the waiting period to ``minutes`` from its start, with a recorded reason,
    never below ELEVATION_WAITING_MINIMUM (doubled after an override). Everyone told of the request is
    told the new time, with their objection link. Writes ``elevation.waiting_shortened``."""
    supervisor_of(actor, _("Only a support supervisor can shorten the waiting period."))
    reason = ensure_reason(reason, _("Say why the waiting period is shortened."))
    sr = lock(service_request)
    if sr.status != Status.COOLING_OFF:
        raise DomainError(_("Only an approved elevation in its waiting period can have it shortened."))
    elevation = Elevation.objects.select_for_update().get(service_request=sr)
    started, before = elevation.waiting_started_at, elevation.effective_at
    if started is None or before is None:
        raise DomainError(_("Only an approved elevation in its waiting period can have it shortened."))
    new_effective = started + timedelta(minutes=minutes)
    floor = waiting_minimum(sr)
    if new_effective < started + floor:
        raise DomainError(
            _("The waiting period cannot be shorter than %(minutes)d minutes.") % {"minutes": floor.total_seconds() // 60}
        )
    if new_effective >= before:
        raise DomainError(_("That is not shorter than the current waiting period."))
    elevation.effective_at = new_effective
    elevation.shortened_by = actor.user
    elevation.shortened_reason = reason
    elevation.save(update_fields=["effective_at", "shortened_by", "shortened_reason"])
    audit_event_record(
        actor=actor,
        action="elevation.waiting_shortened",
        target=sr,
        tenant=sr.tenant,
        before={"effective_at": before.isoformat()},
        after={"effective_at": new_effective.isoformat(), "reason": reason},
    )
    to_requester(sr, "elevation_scheduled", effective_at=alerts.when(new_effective))
    alerts.warn_everyone(
        sr,
        template="takeover_approved",
        proposed_user=account_selectors.user_by_email(elevation.email),
        proposed_email=elevation.email,
        effective_at=alerts.when(new_effective),
        shortened=True,
    )
    return elevation


@transaction.atomic
def admin_block_override(*, service_request: ServiceRequest, actor: Actor, reason: str) -> ServiceRequest:
    """A supervisor records why support goes on although an active global admin signed in recently.

    The waiting period after approval doubles. Writes ``admin_block.overridden``.
    """
    supervisor_of(actor, _("Only a support supervisor can override the active-admin block."))
    reason = ensure_reason(reason, _("Record the reason for the override."))
    sr = lock(service_request)
    ensure_open(sr)
    blockers = list(selectors.blocking_admins(sr.tenant))
    if not blockers:
        raise DomainError(_("No active global admin blocks this request: there is nothing to override."))
    if sr.admin_block_override_at:
        raise DomainError(_("The block is already overridden."))
    sr.admin_block_override_reason = reason
    sr.admin_block_override_by = actor.user
    sr.admin_block_override_at = now()
    sr.save(update_fields=["admin_block_override_reason", "admin_block_override_by", "admin_block_override_at"])
    audit_event_record(
        actor=actor,
        action="admin_block.overridden",
        target=sr,
        tenant=sr.tenant,
        after={"reason": reason, "admins": [u.email for u in blockers]},
    )
    return sr


@transaction.atomic
def elevation_send_back(*, service_request: ServiceRequest, actor: Actor, note: str) -> ServiceRequest:
    """A supervisor declines the proposal, or withdraws an approval that has not taken effect yet.

    The request returns to review with the note, and the checks that depend on the requester's
    evidence (identity, company details, former admin gone) are voided.
    """
    supervisor_of(actor, _("Only a support supervisor can send a proposal back."))
    note = ensure_reason(note, _("Say why the proposal is sent back."))
    sr = lock(service_request)
    if sr.status not in (Status.ELEVATION_PROPOSED, Status.COOLING_OFF):
        raise DomainError(_("There is no proposal or waiting elevation to send back."))
    withdrawn = Elevation.objects.filter(service_request=sr, completed_at__isnull=True).first()
    audit_event_record(
        actor=actor,
        action="elevation.sent_back",
        target=sr,
        tenant=sr.tenant,
        after={
            "note": note,
            "email": withdrawn.email if withdrawn else None,
            "was_approved": bool(withdrawn and withdrawn.approved_at),
        },
    )
    Elevation.objects.filter(service_request=sr, completed_at__isnull=True).delete()
    voided = checks_void(service_request=sr, kinds=DEPENDS_ON_REQUESTER, actor=actor, reason=f"Sent back: {note}")
    return transition(sr, Status.IN_REVIEW, actor=actor, role=SUPERVISOR, note=f"{note} (voided: {', '.join(voided) or 'none'})")
