"""Changes support makes to tenants and users in the Django admin: audited, and told to the tenant."""

from audit.services import Actor, audit_event_record

from ..models import Tenant, User
from ..notify import tell_tenant_admins


def tenant_changed_by_support(*, actor: Actor, tenant: Tenant, before: dict, after: dict) -> None:
    """Record a change to a tenant's record (``tenant.changed_by_support``); a new phone number on record
    is told to every admin of the tenant, because support calls it back to verify requests."""
    if before == after:
        return
    audit_event_record(actor=actor, action="tenant.changed_by_support", target=tenant, tenant=tenant,
                       before=before, after=after)
    if "phone_on_record" in after and before.get("phone_on_record") != after["phone_on_record"]:
        tell_tenant_admins(tenant, template="phone_changed", context={
            "before": before.get("phone_on_record", ""), "after": after["phone_on_record"], "by": "support"})


def user_changed_by_support(*, actor: Actor, user: User, before: dict, after: dict) -> None:
    """Record a change to a user's access (staff, superuser, active, groups): ``user.changed_by_support``."""
    if before != after:
        audit_event_record(actor=actor, action="user.changed_by_support", target=user, before=before, after=after)
