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
)
USER_ACCESS_FIELDS = ("is_active", "is_staff", "is_superuser")


def _nothing_related() -> None:
    pass


def _tenant_state(tenant: Tenant) -> dict[str, Any]:
    state: dict[str, Any] = {f: str(getattr(tenant, f)) for f in TENANT_FIELDS}
    state["other_domains"] = sorted(tenant.other_domains.values_list("domain", flat=True))
    return state


def _user_state(user: User) -> dict:
    return {**{f: getattr(user, f) for f in USER_ACCESS_FIELDS}, "groups": sorted(user.groups.values_list("name", flat=True))}


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
    """Save support's new or edited user, then ``save_related`` (groups), and record a change of access.

    Atomic: the user, their groups and the ``user.changed_by_support`` event (staff, superuser,
    active, groups; written only when one of them changed) are written together or not at all. A
    change of an existing user's access also ends their sessions everywhere.
    """
    before = _user_state(User.objects.select_for_update().get(pk=user.pk)) if user.pk else {}
    user.save()
    save_related()
    after = _user_state(user)
    if before == after:
        return user
    audit_event_record(actor=actor, action="user.changed_by_support", target=user, before=before, after=after, tenant=_tenant_of(user))
    if before:
        sessions_end_others(user=user, keep_session_key=None)
    return user


@transaction.atomic
def user_password_set_by_support(*, actor: Actor, user: User, password: str | None) -> User:
    """Support sets a user's password in the admin (``password=None``: password sign-in turned off).

    The password was validated by the caller's form. Atomic: the new password, the
    ``password.set_by_support`` event, the end of every session of the user and the email telling
    them are written together or not at all.
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
    outbox_enqueue(
        template="security_changed",
        to_email=user.email,
        language=user.preferred_language,
        context={"change": "password_changed", "ip": getattr(actor.meta, "ip_address", None) or ""},
        target=user,
    )
    return user
