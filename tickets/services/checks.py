"""Verification checks: recording one (agents, the portal itself), voiding those a change undid,
and moving the request when the proof is complete or broken."""

from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from audit.services import Actor, audit_event_record
from portal.errors import StrOrPromise

from .. import selectors
from ..models import CheckKind, CheckOutcome, ServiceRequest, Status, VerificationCheck
from ..policy import AUTOMATIC, CHECKABLE
from ..workflow import DomainError, lock, transition
from .common import staff_role_of, tenant_of


def check_write(
    *, service_request: ServiceRequest, kind: str, outcome: str, note: str, actor: Actor, details: dict[str, Any] | None = None
) -> VerificationCheck:
    """The one writer of checks: the row and its ``check.recorded`` audit event, in the caller's transaction."""
    sr = service_request
    check = VerificationCheck.objects.create(service_request=sr, kind=kind, outcome=outcome, note=note, agent=actor.user)
    after = {"check": kind, "outcome": outcome, "note": note, **(details or {})}
    if kind == CheckKind.CALLBACK_ON_RECORD and sr.tenant is not None:
        after["phone_called"] = sr.tenant.phone_on_record
    audit_event_record(actor=actor, action="check.recorded", target=sr, tenant=sr.tenant, after=after)
    return check


def checks_void(*, service_request: ServiceRequest, kinds: Iterable[str], actor: Actor, reason: str) -> list[str]:
    """Void the passed checks of ``kinds`` (they must be made again). Returns the kinds voided."""
    latest = selectors.latest_checks(service_request)
    voided = []
    for kind in kinds:
        if kind in latest and latest[kind].outcome == CheckOutcome.PASSED:
            check_write(service_request=service_request, kind=kind, outcome=CheckOutcome.VOIDED, note=reason, actor=actor)
            voided.append(kind)
    return voided


def voided_labels(kinds: Iterable[str]) -> str:
    return ", ".join(str(CheckKind(k).label) for k in kinds)


def verification_progress(*, service_request: ServiceRequest, actor: Actor, role: str, note: str = "") -> ServiceRequest:
    """After a check: a request in review whose proof is complete becomes ``verified``; a verified one
    whose proof broke goes back to review. Call with the row locked."""
    sr = service_request
    complete = selectors.checks_all_passed(sr)
    if sr.status == Status.IN_REVIEW and sr.tenant_id and complete:
        return transition(sr, Status.VERIFIED, actor=actor, role=role)
    if sr.status == Status.VERIFIED and not complete:
        return transition(sr, Status.IN_REVIEW, actor=actor, role=role, note=note)
    return sr


def _block_message(sr: ServiceRequest, blockers: list[User]) -> StrOrPromise:
    names = ", ".join(
        f"{u.full_name or u.email} <{u.email}> ({date_format(u.last_login, 'SHORT_DATETIME_FORMAT') if u.last_login else '—'})"
        for u in blockers
    )
    return _(
        "The former admin cannot be confirmed gone: %(admins)s is an active global admin of %(tenant)s and "
        "signed in recently. That admin can add an admin in the console. If they have really left, the company "
        "must have the account deactivated through the off-band procedure (docs/security.md), or a supervisor "
        "must record a reason to override, which doubles the waiting period."
    ) % {"admins": names, "tenant": tenant_of(sr).legal_name}


@transaction.atomic
def verification_check_record(
    *, service_request: ServiceRequest, actor: Actor, kind: str, outcome: str, note: str = ""
) -> VerificationCheck:
    """Record one check made by an agent (writes ``check.recorded``); the check's ``service_request`` is the
    request as it stands afterwards.

    Refuses the checks the portal makes itself (email, DNS), a call-back or former-admin check before
    the tenant is matched, and "former admin gone" while an active global admin signed in recently
    (unless a supervisor overrode it). When the proof is complete the request becomes ``verified``;
    a failed check takes a verified request back to review.
    """
    role = staff_role_of(actor)
    if kind not in CheckKind.values or outcome not in CheckOutcome.values or outcome == CheckOutcome.VOIDED:
        raise DomainError(_("Unknown check or outcome."))
    if kind == CheckKind.EMAIL_CONFIRMED:
        raise DomainError(_("The work email is confirmed only by the requester's own link."))
    if kind in AUTOMATIC:
        raise DomainError(_("The portal records this check itself when it finds the DNS record."))
    sr = lock(service_request)
    if sr.status not in CHECKABLE:
        raise DomainError(_("Checks can only be recorded while the request is being reviewed."))
    if kind == CheckKind.CALLBACK_ON_RECORD and sr.tenant is None:
        raise DomainError(_("Match the tenant first: the call-back goes to the number on its record."))
    if kind == CheckKind.FORMER_ADMIN_GONE and sr.tenant is None:
        raise DomainError(_("Match the tenant first: the former admin is checked against its record."))
    if outcome != CheckOutcome.PASSED and not note.strip():
        raise DomainError(_("Say in the note why the check did not pass."))
    if kind == CheckKind.FORMER_ADMIN_GONE and outcome == CheckOutcome.PASSED and not sr.admin_block_override_at:
        blockers = list(selectors.blocking_admins(sr.tenant))
        if blockers:
            raise DomainError(_block_message(sr, blockers))
    check = check_write(service_request=sr, kind=kind, outcome=outcome, note=note, actor=actor)
    if sr.status == Status.NEW:
        sr = transition(sr, Status.IN_REVIEW, actor=actor, role=role)
    check.service_request = verification_progress(service_request=sr, actor=actor, role=role, note=note)
    return check
