"""The people who can stop a takeover: the tenant's global admins and the former admin on record.

Read-only. The emails and objection links themselves are written by ``tickets.alerts``.
"""

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db.models import QuerySet
from django_otp import devices_for_user

from accounts import selectors as account_selectors
from accounts.models import Membership, Tenant, User
from portal.clock import now

from ..models import Objection, ObjectionLink, ServiceRequest


@dataclass(frozen=True)
class Recipient:
    email: str
    user: User | None
    why: str  # ObjectionLink.Why


def tenants_to_warn(service_request: ServiceRequest) -> list[Tenant]:
    """The tenant holding the filed domain and, if different, the tenant an agent matched."""
    tenants: list[Tenant] = []
    for tenant in (account_selectors.tenant_for_domain(service_request.company_domain), service_request.tenant):
        if tenant is not None and tenant.pk not in [t.pk for t in tenants]:
            tenants.append(tenant)
    return tenants


def former_admin_account(service_request: ServiceRequest, tenant: Tenant) -> User | None:
    """The account named as former admin, if it is an account of ``tenant`` (any role, active or not)."""
    if not service_request.former_admin_email:
        return None
    return User.objects.filter(email__iexact=service_request.former_admin_email.strip(), memberships__tenant=tenant).first()


def people_to_warn(service_request: ServiceRequest, tenant: Tenant) -> list[Recipient]:
    """Every active global admin of ``tenant`` at their sign-in and alternate addresses, and the former
    admin's address on record if it is an account of that tenant. One entry per address."""
    recipients: list[Recipient] = []
    seen: set[str] = set()

    def add(email: str, user: User | None, why: str) -> None:
        if email and email.lower() not in seen:
            seen.add(email.lower())
            recipients.append(Recipient(email=email, user=user, why=why))

    for admin in account_selectors.tenant_active_global_admins(tenant).order_by("email"):
        add(admin.email, admin, ObjectionLink.Why.GLOBAL_ADMIN)
        add(admin.alternate_email, admin, ObjectionLink.Why.GLOBAL_ADMIN)
    former = former_admin_account(service_request, tenant)
    if former is not None:
        add(former.email, former, ObjectionLink.Why.FORMER_ADMIN)
    return recipients


def recent_signin_cutoff() -> datetime:
    return now() - settings.ACTIVE_ADMIN_RECENT_SIGNIN


def blocking_admins(tenant: Tenant | None) -> QuerySet[User]:
    """Active global admins who signed in within ACTIVE_ADMIN_RECENT_SIGNIN: they can add an admin
    themselves, so support must not (unless a supervisor overrides, with a reason)."""
    if tenant is None:
        return User.objects.none()
    return account_selectors.tenant_active_global_admins(tenant).filter(last_login__gte=recent_signin_cutoff())


def admins_signed_in_since(tenant: Tenant, moment: datetime) -> QuerySet[User]:
    """Active global admins who signed in after ``moment``: a sign of life during the waiting period."""
    return account_selectors.tenant_active_global_admins(tenant).filter(last_login__gt=moment)


def global_admin_facts(service_request: ServiceRequest, tenant: Tenant | None) -> list[dict]:
    """Each global admin of ``tenant`` on record, active or not: last sign-in, second factor, whether
    they block the support path, and whether they were told of this request (the email's status)."""
    if tenant is None:
        return []
    memberships = (
        Membership.objects.filter(tenant=tenant, role=Membership.Role.GLOBAL_ADMIN).select_related("user").order_by("user__email")
    )
    cutoff = recent_signin_cutoff()
    links = ObjectionLink.objects.filter(service_request=service_request).select_related("outbox_message").order_by("created_at", "id")
    told: dict[str, list] = {}
    for link in links:
        told.setdefault(link.email.lower(), []).append(link)
    facts = []
    for membership in memberships:
        user = membership.user
        addresses = [a for a in (user.email, user.alternate_email) if a]
        notices = [
            {
                "email": link.email,
                "at": link.created_at,
                "status": link.outbox_message.get_status_display() if link.outbox_message else "—",
                "status_code": link.outbox_message.status if link.outbox_message else "",
            }
            for address in addresses
            for link in told.get(address.lower(), [])
        ]
        facts.append(
            {
                "user": user,
                "active": user.is_active,
                "last_login": user.last_login,
                "second_factor": any(True for _ in devices_for_user(user, confirmed=True)),
                "blocks": user.is_active and user.last_login is not None and user.last_login >= cutoff,
                "notices": notices,
            }
        )
    return facts


def open_objections(service_request: ServiceRequest) -> QuerySet[Objection]:
    return Objection.objects.filter(service_request=service_request, resolved_at__isnull=True)


def block_overridden(service_request: ServiceRequest) -> bool:
    return bool(service_request.admin_block_override_at)
