"""Changes support makes to tenants and users in the Django admin: saved, audited and told here.

The admin hands over the object its form filled in, and ``save_related``: a callable that saves
what the admin's forms hold besides the object (inline rows, many-to-many fields), which must be
saved after the object and before the audit's "after" picture is taken.
"""

from collections.abc import Callable
from typing import Any

from django.db import transaction

from audit.services import Actor, audit_event_record
from notifications.services import outbox_enqueue

from ..models import Tenant, User
from ..notify import tell_tenant_admins
from .security import user_addresses
from .sessions import sessions_end_others

TENANT_FIELDS = (
    "legal_name",
    "partner_id",
    "primary_domain",
    "country",
    "postal_address",
    "phone_on_record",
    "self_service_reset_enabled",
    "self_service_reset_scope",
    "is_active",
)
# Every field of a user that support can edit in the admin, audited and told to the owner's old addresses.
USER_FIELDS = (
    "email",
    "alternate_email",
    "alternate_phone",
    "full_name",
    "phone",
    "preferred_language",
    "is_active",
    "is_staff",
    "is_superuser",
)
# A change to one of these (who signs in, where recovery goes, what they may do) ends the user's sessions.
USER_ACCESS_FIELDS = ("email", "alternate_email", "is_active", "is_staff", "is_superuser", "groups")


def _nothing_related() -> None:
    pass


def _tenant_state(tenant: Tenant) -> dict[str, Any]:
    state: dict[str, Any] = {f: str(getattr(tenant, f)) for f in TENANT_FIELDS}
    state["other_domains"] = sorted(tenant.other_domains.values_list("domain", flat=True))
    return state


def _user_state(user: User) -> dict[str, Any]:
    return {**{f: getattr(user, f) for f in USER_FIELDS}, "groups": sorted(user.groups.values_list("name", flat=True))}


def _told_of_support_change(user: User, *, before: dict[str, Any], after: dict[str, Any], actor: Actor) -> None:
    """Email what support changed to the addresses the account had before (where its owner reads) and has now.

    The old sign-in and alternate addresses are the point: a takeover by a changed address is told to
    the address it replaced."""
    changes = [
        {"field": field, "before": _shown(before.get(field)), "after": _shown(after[field])}
        for field in after
        if before.get(field) != after[field]
    ]
    addresses = {before.get("email", ""), before.get("alternate_email", ""), user.email, user.alternate_email} - {""}
    for address in sorted(addresses):
        outbox_enqueue(
            template="account_changed_by_support",
            to_email=address,
            language=user.preferred_language,
            context={"changes": changes, "ip": getattr(actor.meta, "ip_address", None) or ""},
            target=user,
        )


def _shown(value: Any) -> Any:
    return ", ".join(value) if isinstance(value, list) else value


def _tenant_of(user: User) -> Tenant | None:
    return Tenant.objects.filter(memberships__user=user).first()


@transaction.atomic
def tenant_save_by_support(*, actor: Actor, tenant: Tenant, save_related: Callable[[], None] = _nothing_related) -> Tenant:
    """Save support's new or edited tenant, then ``save_related`` (its other domains), and record the change.

    Atomic: the tenant, its domains, the ``tenant.changed_by_support`` event (before/after, written
    only when something changed) and, for a new phone number on record, an email to each admin of
    the tenant (support calls that number back to verify requests) are written together or not at all.
    """
    before = _tenant_state(Tenant.objects.select_for_update().get(pk=tenant.pk)) if tenant.pk else {}
    tenant.save()
    save_related()
    after = _tenant_state(tenant)
    if before == after:
        return tenant
    audit_event_record(actor=actor, action="tenant.changed_by_support", target=tenant, tenant=tenant, before=before, after=after)
    if before.get("phone_on_record") != after["phone_on_record"]:
        tell_tenant_admins(
            tenant,
            template="phone_changed",
            context={"before": before.get("phone_on_record", ""), "after": after["phone_on_record"], "by": ""},
        )
    return tenant


@transaction.atomic
def user_save_by_support(*, actor: Actor, user: User, save_related: Callable[[], None] = _nothing_related) -> User:
    """Save support's new or edited user, then ``save_related`` (groups), and record every change.

    Atomic: the user, their groups, the ``user.changed_by_support`` event (sign-in and alternate email,
    alternate phone, name, phone, language, active, staff, superuser and groups, before and after;
    written only when one of them changed) and, for an existing user, an email listing the changes to
    the sign-in and alternate addresses the account had before and has now, are written together or not
    at all. A change of who signs in, where recovery goes or what the user may do also ends the user's
    sessions everywhere.
    """
    before = _user_state(User.objects.select_for_update().get(pk=user.pk)) if user.pk else {}
    user.save()
    save_related()
    after = _user_state(user)
    if before == after:
        return user
    audit_event_record(actor=actor, action="user.changed_by_support", target=user, before=before, after=after, tenant=_tenant_of(user))
    if before:
        _told_of_support_change(user, before=before, after=after, actor=actor)
        if any(before[f] != after[f] for f in USER_ACCESS_FIELDS):
            sessions_end_others(user=user, keep_session_key=None)
    return user


@transaction.atomic
def user_deactivate_by_support(*, actor: Actor, user: User) -> User:
    """Support's "deactivate" (the admin deletes nobody: the audit log names people, and a deleted account
    could be made again by someone else). The account can no longer sign in, its set-password links die
    (unusable password) and its sessions end; ``user.deactivated`` is written, the owner's addresses and
    their tenants' admins are told. Atomic; does nothing to an account already inactive.
    """
    user = User.objects.select_for_update().get(pk=user.pk)
    if not user.is_active:
        return user
    before = _user_state(user)
    user.is_active = False
    user.set_unusable_password()
    user.save(update_fields=["is_active", "password"])
    sessions_end_others(user=user, keep_session_key=None)
    tenants = list(Tenant.objects.filter(memberships__user=user))
    audit_event_record(
        actor=actor,
        action="user.deactivated",
        target=user,
        tenant=tenants[0] if tenants else None,
        before=before,
        after=_user_state(user),
    )
    _told_of_support_change(user, before=before, after=_user_state(user), actor=actor)
    for tenant in tenants:
        tell_tenant_admins(tenant, template="user_deactivated", context={"user_email": user.email, "by": "support"}, exclude=[user])
    return user


@transaction.atomic
def tenant_deactivate_by_support(*, actor: Actor, tenant: Tenant) -> Tenant:
    """Support's "deactivate" for an organisation that leaves. Its console closes and self-service reset
    turns off; the accounts of its members who belong to no other active organisation, staff aside, are
    deactivated (``user_deactivate_by_support``). Writes ``tenant.deactivated``; its admins are told first.
    Atomic; does nothing to a tenant already inactive.
    """
    tenant = Tenant.objects.select_for_update().get(pk=tenant.pk)
    if not tenant.is_active:
        return tenant
    tell_tenant_admins(tenant, template="tenant_deactivated", context={})
    before = _tenant_state(tenant)
    tenant.is_active = False
    tenant.self_service_reset_enabled = False
    tenant.save(update_fields=["is_active", "self_service_reset_enabled"])
    members = User.objects.filter(memberships__tenant=tenant, is_active=True, is_staff=False).exclude(
        memberships__tenant__is_active=True
    )
    deactivated = [user_deactivate_by_support(actor=actor, user=member).email for member in members]
    audit_event_record(
        actor=actor,
        action="tenant.deactivated",
        target=tenant,
        tenant=tenant,
        before=before,
        after={**_tenant_state(tenant), "accounts_deactivated": sorted(deactivated)},
    )
    return tenant


@transaction.atomic
def user_password_set_by_support(*, actor: Actor, user: User, password: str | None) -> User:
    """Support sets a user's password in the admin (``password=None``: password sign-in turned off).

    The password was validated by the caller's form. Atomic: the new password, the
    ``password.set_by_support`` event, the end of every session of the user and the email telling
    them (sign-in and alternate addresses) are written together or not at all.
    """
    user = User.objects.select_for_update().get(pk=user.pk)
    if password is None:
        user.set_unusable_password()
    else:
        user.set_password(password)
    user.save(update_fields=["password"])
    audit_event_record(
        actor=actor, action="password.set_by_support", target=user, tenant=_tenant_of(user), after={"usable": password is not None}
    )
    sessions_end_others(user=user, keep_session_key=None)
    for address in user_addresses(user):
        outbox_enqueue(
            template="security_changed",
            to_email=address,
            language=user.preferred_language,
            context={"change": "password_changed", "ip": getattr(actor.meta, "ip_address", None) or ""},
            target=user,
        )
    return user
