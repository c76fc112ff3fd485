"""What a tenant's admins do in the console. Every action is checked here, audited and notified.

Rules: only a global admin makes or removes a global admin; a user admin manages members only;
the last active global admin can be neither demoted nor deactivated; an admin never chooses a
user's password.
"""

import secrets
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils.translation import gettext_lazy as _
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from audit.services import Actor, audit_event_record
from notifications.services import outbox_enqueue
from portal.clock import now
from portal.errors import DomainError

from .. import selectors
from ..models import Membership, Tenant, User
from ..notify import tell_tenant_admins
from ..policy import ADMIN_ROLES
from .roles import membership_set_role
from .sessions import sessions_end_others
from .users import password_link

GLOBAL = Membership.Role.GLOBAL_ADMIN


class ConsoleError(DomainError):
    """A console action was refused by the tenant's rules."""


def admin_role(user: User, tenant: Tenant) -> str | None:
    """The acting user's admin role in ``tenant``, or None."""
    if not user.is_authenticated or not user.is_active or not tenant.is_active:
        return None
    return Membership.objects.filter(user=user, tenant=tenant, role__in=ADMIN_ROLES).values_list("role", flat=True).first()


def _require_admin(actor: Actor, tenant: Tenant) -> str:
    role = admin_role(actor.user, tenant)
    if role is None:
        raise PermissionDenied
    return role


def _membership(tenant: Tenant, user: User) -> Membership:
    membership = Membership.objects.select_for_update().filter(tenant=tenant, user=user).first()
    if membership is None:
        raise PermissionDenied  # never act on another tenant's user
    return membership


def _may_manage(actor_role: str, target: Membership) -> None:
    """Account-wide actions (password, second factor, deactivation, unfreeze) on ``target``'s user."""
    if actor_role != GLOBAL and target.role in ADMIN_ROLES:
        raise ConsoleError(_("Only a global admin can manage admins."))
    # The account is one for all its organisations: acting on it from one would reach the others
    # (an admin of B could take over a global admin of A who is a member of B).
    if Membership.objects.filter(user_id=target.user_id).exclude(tenant_id=target.tenant_id).exists():
        raise ConsoleError(_("This person also belongs to another organisation: ask support to act on the account."))
    if target.user.is_staff:
        raise PermissionDenied


def _managed_member(actor: Actor, tenant: Tenant, user: User) -> tuple[str, Membership]:
    """The actor's admin role and the target's locked membership, once every account-wide rule allows it."""
    actor_role = _require_admin(actor, tenant)
    target = _membership(tenant, user)
    _may_manage(actor_role, target)
    return actor_role, target


def _guard_last_global_admin(tenant: Tenant, target: Membership) -> None:
    if target.role == GLOBAL and target.user.is_active:
        # Serialise on the tenant row: two admins demoting each other at once must not both pass.
        Tenant.objects.select_for_update().filter(pk=tenant.pk).exists()
        others = selectors.tenant_active_global_admins(tenant).exclude(pk=target.user_id)
        if not others.exists():
            raise ConsoleError(_("This is the last active global admin: make someone else global admin first."))


def _tell_user(
    user: User, *, template: str, context: dict[str, Any], secrets_: dict[str, str] | None = None, tenant: Tenant | None = None
) -> None:
    outbox_enqueue(
        template=template,
        to_email=user.email,
        language=user.preferred_language,
        context={**context, "tenant": tenant.legal_name if tenant else ""},
        secrets=secrets_,
        target=user,
    )


@transaction.atomic
def console_set_role(*, actor: Actor, tenant: Tenant, user: User, role: str) -> Membership:
    actor_role = _require_admin(actor, tenant)
    target = _membership(tenant, user)
    if role not in Membership.Role.values:
        raise ConsoleError(_("Unknown role."))
    if target.role == role:
        raise ConsoleError(_("%(email)s already has this role.") % {"email": user.email})
    if actor_role != GLOBAL and (role in ADMIN_ROLES or target.role in ADMIN_ROLES):
        raise ConsoleError(_("Only a global admin can make or remove admins."))
    if target.role == GLOBAL:
        _guard_last_global_admin(tenant, target)
    before = target.role
    membership = membership_set_role(actor=actor, user=user, tenant=tenant, role=role, reason="console")
    context = {"user_email": user.email, "before": before, "after": role, "by": actor.user.email}
    _tell_user(user, template="role_changed", context=context, tenant=tenant)
    tell_tenant_admins(tenant, template="role_changed_admins", context=context, exclude=[user, actor.user])
    return membership


@transaction.atomic
def console_deactivate(*, actor: Actor, tenant: Tenant, user: User) -> User:
    _role, target = _managed_member(actor, tenant, user)
    if user.pk == actor.user.pk:
        raise ConsoleError(_("You cannot deactivate your own account."))
    _guard_last_global_admin(tenant, target)
    # An unusable password also voids every set-password link already sent.
    user.set_unusable_password()
    user.is_active = False
    user.save(update_fields=["password", "is_active"])
    sessions_end_others(user=user, keep_session_key=None)
    audit_event_record(actor=actor, action="user.deactivated", target=user, tenant=tenant)
    tell_tenant_admins(
        tenant, template="user_deactivated", context={"user_email": user.email, "by": actor.user.email}, exclude=[actor.user]
    )
    return User.objects.get(pk=user.pk)


@transaction.atomic
def console_unfreeze(*, actor: Actor, tenant: Tenant, user: User) -> User:
    """Lift a freeze ("this wasn't me" link), the sign-in ceiling (100 wrong passwords in a row) and the
    sign-in throttle (its counters start again), once the admin has checked with the owner."""
    _role, target = _managed_member(actor, tenant, user)
    before = {"frozen": bool(user.frozen_at), "failed_login_count": user.failed_login_count}
    User.objects.filter(pk=user.pk).update(frozen_at=None, failed_login_count=0, signin_throttle_lifted_at=now())
    audit_event_record(actor=actor, action="account.unfrozen", target=user, tenant=tenant, before=before)
    tell_tenant_admins(
        tenant, template="user_unfrozen", context={"user_email": user.email, "by": actor.user.email}, exclude=[actor.user]
    )
    return User.objects.get(pk=user.pk)


@transaction.atomic
def console_reset_password(*, actor: Actor, tenant: Tenant, user: User, mode: str) -> str | None:
    """Send a reset link (``mode="link"``) or set a system-generated temporary password (returned once).

    The temporary password must be changed at next sign-in. Ends the user's sessions; writes
    ``password.reset_by_admin``; tells the user (and their alternate address).
    """
    _role, target = _managed_member(actor, tenant, user)
    temporary = None
    if mode == "temporary":
        temporary = "-".join(secrets.token_urlsafe(4).replace("_", "x").replace("-", "y") for _ in range(4))
        user.set_password(temporary)
        user.must_change_password = True
        user.save(update_fields=["password", "must_change_password"])
        _tell_user(user, template="password_reset_by_admin", context={"mode": mode, "by": actor.user.email}, tenant=tenant)
    else:
        _tell_user(
            user,
            template="password_reset_by_admin",
            context={"mode": "link", "by": actor.user.email},
            secrets_={"reset_url": password_link(user)},
            tenant=tenant,
        )
    if user.alternate_email:
        # A notice without the link: the owner hears of it where an attacker who holds the work mailbox does not.
        outbox_enqueue(
            template="password_reset_by_admin",
            to_email=user.alternate_email,
            language=user.preferred_language,
            context={"mode": "notice", "notice_of": mode, "by": actor.user.email, "tenant": tenant.legal_name},
            target=user,
        )
    sessions_end_others(user=user, keep_session_key=None)
    audit_event_record(actor=actor, action="password.reset_by_admin", target=user, tenant=tenant, after={"mode": mode})
    return temporary


@transaction.atomic
def console_require_reenrolment(*, actor: Actor, tenant: Tenant, user: User) -> None:
    _role, target = _managed_member(actor, tenant, user)
    TOTPDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()
    sessions_end_others(user=user, keep_session_key=None)
    audit_event_record(actor=actor, action="second_factor.reset_by_admin", target=user, tenant=tenant)
    _tell_user(user, template="second_factor_reset", context={"by": actor.user.email}, tenant=tenant)


@transaction.atomic
def console_set_self_reset_allowed(*, actor: Actor, tenant: Tenant, user: User, allowed: bool) -> Membership:
    """Include a user in (or exclude them from) self-service reset when the tenant chose selected users."""
    actor_role = _require_admin(actor, tenant)
    target = _membership(tenant, user)
    # This switch is this tenant's own (its membership), not account-wide: only the role rule applies.
    if actor_role != GLOBAL and target.role in ADMIN_ROLES:
        raise ConsoleError(_("Only a global admin can manage admins."))
    if target.self_service_reset_allowed != allowed:
        target.self_service_reset_allowed = allowed
        target.save(update_fields=["self_service_reset_allowed"])
        audit_event_record(
            actor=actor, action="self_service_reset.scope_changed", target=user, tenant=tenant, after={"allowed": allowed}
        )
    return target


@transaction.atomic
def console_invite(*, actor: Actor, tenant: Tenant, email: str, full_name: str) -> User:
    """Invite a member: a new inactive user on a verified domain, with a single-use, expiring link."""
    _require_admin(actor, tenant)
    email = email.strip().lower()
    if not selectors.tenant_owns_email(tenant, email):
        raise ConsoleError(_("%(email)s is not on a verified domain of %(tenant)s.") % {"email": email, "tenant": tenant.legal_name})
    if selectors.user_by_email(email) is not None:
        raise ConsoleError(_("An account with this email already exists."))
    user = User.objects.create_user(email=email, password=None, full_name=full_name, is_active=False)
    membership_set_role(actor=actor, user=user, tenant=tenant, role=Membership.Role.MEMBER, reason="invitation")
    audit_event_record(actor=actor, action="user.invited", target=user, tenant=tenant)
    _tell_user(
        user, template="invitation", context={"by": actor.user.email}, secrets_={"reset_url": password_link(user)}, tenant=tenant
    )
    return user


@transaction.atomic
def console_update_settings(
    *,
    actor: Actor,
    tenant: Tenant,
    self_service_reset_enabled: bool,
    phone_on_record: str,
    self_service_reset_scope: str = Tenant.ResetScope.ALL,
) -> Tenant:
    """Self-service reset on/off (global admins) and the phone on record (told to every admin)."""
    actor_role = _require_admin(actor, tenant)
    if actor_role != GLOBAL:
        raise ConsoleError(_("Only a global admin can change the tenant's settings."))
    tenant = Tenant.objects.select_for_update().get(pk=tenant.pk)
    fields = ["self_service_reset_enabled", "self_service_reset_scope", "phone_on_record"]
    before = {f: getattr(tenant, f) for f in fields}
    tenant.self_service_reset_enabled = self_service_reset_enabled
    tenant.self_service_reset_scope = self_service_reset_scope
    tenant.phone_on_record = phone_on_record.strip()
    tenant.save(update_fields=fields)
    after = {f: getattr(tenant, f) for f in fields}
    if before != after:
        audit_event_record(actor=actor, action="tenant.settings_changed", target=tenant, tenant=tenant, before=before, after=after)
    if before["phone_on_record"] != tenant.phone_on_record:
        # Support calls this number back to verify requests: every admin must know it changed.
        tell_tenant_admins(
            tenant,
            template="phone_changed",
            context={"before": before["phone_on_record"], "after": tenant.phone_on_record, "by": actor.user.email},
        )
    return tenant
