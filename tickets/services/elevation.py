"""Elevation: an agent proposes who becomes global admin, a different supervisor approves."""

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from accounts import selectors as account_selectors
from accounts.models import Membership
from accounts.services import membership_set_role, user_create_inactive
from accounts.services.users import password_link, user_reactivate_for_elevation
from audit.services import Actor, audit_event_record
from portal.clock import now

from ..models import Elevation, ServiceRequest, Status
from ..selectors import staff_role
from ..workflow import SUPERVISOR, DomainError, lock, transition
from .agents import staff_role_of


@transaction.atomic
def elevation_propose(*, service_request: ServiceRequest, actor: Actor, email: str, full_name: str = "") -> Elevation:
    """Propose ``email`` as the tenant's new global admin. Only a verified request can be proposed."""
    role = staff_role_of(actor)
    sr = lock(service_request)
    if sr.status != Status.VERIFIED:
        raise DomainError(_("Only a verified request can have an elevation proposed."))
    tenant = sr.tenant
    email = email.strip().lower()
    if not account_selectors.tenant_owns_email(tenant, email):
        raise DomainError(
            _("%(email)s is not on a verified domain of %(tenant)s.") % {"email": email, "tenant": tenant.legal_name}
        )
    existing = account_selectors.user_by_email(email)
    if existing is not None and existing.is_staff:
        raise DomainError(_("A support staff account cannot be made a tenant's global admin."))
    Elevation.objects.filter(service_request=sr, approved_at__isnull=True).delete()
    elevation = Elevation.objects.create(
        service_request=sr, email=email, full_name=full_name or (existing.full_name if existing else ""),
        proposed_by=actor.user, proposed_at=now(),
    )
    audit_event_record(actor=actor, action="elevation.proposed", target=sr, tenant=tenant,
                       after={"email": email, "existing_user": existing is not None})
    transition(sr, Status.ELEVATION_PROPOSED, actor=actor, role=role)
    return elevation


def elevation_approve(*, service_request: ServiceRequest, actor: Actor) -> Elevation:
    """Approve the proposed elevation: exactly once, by a supervisor who did not propose it.

    Atomic and row-locked: when two supervisors approve at the same moment, the second waits
    for the first, then sees a DomainError. Creates the user (inactive, with a single-use
    set-password link) if needed, makes them global admin through ``membership_set_role``,
    writes ``elevation.approved`` and moves the request to ``elevated``.
    """
    if staff_role(actor.user) != SUPERVISOR:
        raise DomainError(_("Only a support supervisor can approve an elevation."))
    with transaction.atomic():
        sr = lock(service_request)
        if sr.status == Status.ELEVATED:
            raise DomainError(_("This elevation has already been approved."))
        if sr.status != Status.ELEVATION_PROPOSED:
            raise DomainError(_("There is no proposed elevation to approve."))
        elevation = Elevation.objects.select_for_update().get(service_request=sr)
        if elevation.proposed_by_id == actor.user.pk:
            raise DomainError(_("Two people are needed: someone other than the proposer must approve."))
        tenant = sr.tenant
        user = account_selectors.user_by_email(elevation.email)
        # Re-check what was true at proposal time: things may have changed since.
        if not account_selectors.tenant_owns_email(tenant, elevation.email):
            raise DomainError(_("%(email)s is no longer on a verified domain of this tenant.") % {"email": elevation.email})
        if user is not None and user.is_staff:
            raise DomainError(_("A support staff account cannot be made a tenant's global admin."))
        secrets = {}
        if user is None:  # inactive until its single-use link sets a password
            user = user_create_inactive(actor=actor, email=elevation.email, full_name=elevation.full_name,
                                        tenant=tenant, language=sr.language)
        elif not user.is_active:  # a deactivated account comes back only through the new link
            user = user_reactivate_for_elevation(actor=actor, user=user, tenant=tenant)
        if not user.is_active or not user.has_usable_password():
            secrets["set_password_url"] = password_link(user)
        membership_set_role(actor=actor, user=user, tenant=tenant, role=Membership.Role.GLOBAL_ADMIN,
                            reason=f"service request {sr.reference}")
        elevation.user = user
        elevation.approved_by = actor.user
        elevation.approved_at = now()
        elevation.save()
        audit_event_record(actor=actor, action="elevation.approved", target=sr, tenant=tenant,
                           after={"user": user.email, "proposed_by": elevation.proposed_by.email})
        transition(sr, Status.ELEVATED, actor=actor, role=SUPERVISOR, secrets=secrets)
    return elevation


@transaction.atomic
def elevation_send_back(*, service_request: ServiceRequest, actor: Actor, note: str) -> ServiceRequest:
    """A supervisor declines the proposal; the request returns to review with the note."""
    if staff_role(actor.user) != SUPERVISOR:
        raise DomainError(_("Only a support supervisor can send a proposal back."))
    if not note.strip():
        raise DomainError(_("Say why the proposal is sent back."))
    sr = lock(service_request)
    Elevation.objects.filter(service_request=sr, approved_at__isnull=True).delete()
    audit_event_record(actor=actor, action="elevation.sent_back", target=sr, tenant=sr.tenant, after={"note": note})
    return transition(sr, Status.IN_REVIEW, actor=actor, role=SUPERVISOR, note=note)
