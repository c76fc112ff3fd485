"""Telling a tenant's admins. Called inside the transaction of the change (outbox rows)."""

from notifications.services import outbox_enqueue

from . import selectors
from .models import Tenant


def tell_tenant_admins(tenant: Tenant, *, template: str, context: dict, exclude=(), secrets=None, target=None) -> None:
    """One email per active admin of ``tenant`` (but ``exclude``), in each admin's language."""
    for admin in selectors.tenant_admins(tenant).exclude(pk__in=[u.pk for u in exclude if u is not None]):
        outbox_enqueue(
            template=template,
            to_email=admin.email,
            language=admin.preferred_language,
            context={**context, "tenant": tenant.legal_name},
            secrets=secrets,
            target=target or tenant,
        )
