"""Roles: every role change goes through ``membership_set_role``."""

from django.db import transaction

from audit.services import Actor, audit_event_record

from ..models import Membership, Tenant, User
from ..policy import ADMIN_ROLES
from .sessions import sessions_end_others


@transaction.atomic
def membership_set_role(*, actor: Actor, user: User, tenant: Tenant, role: str, reason: str = "") -> Membership:
    """Give ``user`` the ``role`` in ``tenant`` (creating the membership if needed).

    Atomic; writes one ``role.changed`` audit event with the role before and after.
    """
    membership, created = Membership.objects.select_for_update().get_or_create(user=user, tenant=tenant, defaults={"role": role})
    before = None if created else membership.role
    if not created and membership.role != role:
        membership.role = role
        membership.save(update_fields=["role"])
    if before != role and (role in ADMIN_ROLES or before in ADMIN_ROLES):
        # A privilege change: the user signs in again, under the new role (and its second factor),
        # with a new session key.
        sessions_end_others(user=user, keep_session_key=None)
    audit_event_record(
        actor=actor,
        action="role.changed",
        target=membership,
        tenant=tenant,
        before={"role": before, "user": user.email},
        after={"role": role, "user": user.email, "reason": reason},
    )
    return membership
