"""Changes support makes to tenants and users in the Django admin: audited, and told to the tenant."""

from audit.services import Actor, audit_event_record
from notifications.services import outbox_enqueue

from ..models import Tenant, User
from ..notify import tell_tenant_admins
from .sessions import sessions_end_others


def tenant_changed_by_support(*, actor: Actor, tenant: Tenant, before: dict, after: dict) -> None:
    """Record a change to a tenant's record (``tenant.changed_by_support``); a new phone number on record
    is told to every admin of the tenant, because support calls it back to verify requests."""
    if before == after:
        return
    audit_event_record(actor=actor, action="tenant.changed_by_support", target=tenant, tenant=tenant, before=before, after=after)
    if "phone_on_record" in after and before.get("phone_on_record") != after["phone_on_record"]:
        tell_tenant_admins(
            tenant,
            template="phone_changed",
            context={"before": before.get("phone_on_record", ""), "after": after["phone_on_record"], "by": ""},
        )


def user_changed_by_support(*, actor: Actor, user: User, before: dict, after: dict) -> None:
    """Record a change to a user's access (staff, superuser, active, groups): ``user.changed_by_support``.
    A change of privilege signs the person out everywhere."""
    if before != after:
        audit_event_record(
            actor=actor,
            action="user.changed_by_support",
            target=user,
            before=before,
            after=after,
            tenant=Tenant.objects.filter(memberships__user=user).first(),
        )
        if before:
            sessions_end_others(user=user, keep_session_key=None)


def user_password_set_by_support(*, actor: Actor, user: User) -> None:
    """Support set a password in the admin: audited, the user told, every session ended."""
    audit_event_record(
        actor=actor, action="password.set_by_support", target=user, tenant=Tenant.objects.filter(memberships__user=user).first()
    )
    sessions_end_others(user=user, keep_session_key=None)
    outbox_enqueue(
        template="security_changed",
        to_email=user.email,
        language=user.preferred_language,
        context={"change": "password_changed", "ip": actor.meta.ip_address or ""},
        target=user,
    )
