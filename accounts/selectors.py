"""Read-only queries about users, tenants and roles."""

import ipaddress
from collections.abc import Iterable
from datetime import datetime

from django.db.models import Q, QuerySet

from audit.models import AuditEvent

from .models import Membership, Tenant, User


def email_domain(email: str) -> str:
    return email.rsplit("@", 1)[-1].strip().lower() if "@" in email else ""


def domain_covers(domain: str, email: str) -> bool:
    """True if the email's domain is ``domain`` or one of its subdomains."""
    d = email_domain(email)
    domain = domain.strip().lower()
    return bool(domain) and (d == domain or d.endswith("." + domain))


def tenant_for_domain(domain: str) -> Tenant | None:
    domain = domain.strip().lower()
    return Tenant.objects.filter(Q(primary_domain__iexact=domain) | Q(other_domains__domain__iexact=domain)).distinct().first()


def tenant_owns_email(tenant: Tenant, email: str) -> bool:
    """Exactly one of the tenant's verified domains: a subdomain's mailboxes may belong to someone else."""
    return email_domain(email) in {d.lower() for d in tenant.all_domains}


def user_by_email(email: str) -> User | None:
    return User.objects.filter(email__iexact=email.strip()).first()


ADMIN_ROLES = (Membership.Role.GLOBAL_ADMIN, Membership.Role.USER_ADMIN)


def tenant_admins(tenant: Tenant, *, roles: Iterable[str] = ADMIN_ROLES) -> QuerySet[User]:
    """Active users holding one of ``roles`` in ``tenant``."""
    return User.objects.filter(memberships__tenant=tenant, memberships__role__in=roles, is_active=True).distinct()


def tenant_active_global_admins(tenant: Tenant) -> QuerySet[User]:
    return tenant_admins(tenant, roles=(Membership.Role.GLOBAL_ADMIN,))


def is_global_admin_on_record(tenant: Tenant, email: str) -> bool:
    """Whether ``email`` holds (or held, if deactivated) the global admin role in ``tenant``."""
    return Membership.objects.filter(tenant=tenant, role=Membership.Role.GLOBAL_ADMIN, user__email__iexact=email.strip()).exists()


def recent_signins(user: User, limit: int = 10) -> QuerySet[AuditEvent]:

    return AuditEvent.objects.filter(
        target_type=user._meta.label_lower,
        target_id=str(user.pk),
        action__in=["signin.succeeded", "signin.failed", "signin.second_factor_failed", "account.locked"],
    ).order_by("-created_at")[:limit]


def signed_in_from_network(user: User, ip: str | None, *, since: datetime) -> bool:
    """Whether ``user`` completed a sign-in (password and, where needed, second factor) since ``since``
    from the network of ``ip``: the same /24 for IPv4, the same /64 for IPv6."""
    if not ip:
        return False
    try:
        network = ipaddress.ip_network(f"{ip}/{64 if ':' in ip else 24}", strict=False)
    except ValueError:
        return False
    seen = (
        AuditEvent.objects.filter(
            target_type=user._meta.label_lower,
            target_id=str(user.pk),
            action="signin.succeeded",
            created_at__gte=since,
            ip_address__isnull=False,
        )
        .order_by()
        .values_list("ip_address", flat=True)
        .distinct()[:500]
    )
    return any(ipaddress.ip_address(address) in network for address in seen if address)
