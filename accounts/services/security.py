"""Changes a user makes to their own security settings.

Each one has been re-authorised by the caller (password and, if the user has one, a second
factor), ends the user's other sessions, notifies every address of the user and writes an
audit event, all in one transaction.
"""

from typing import Any

from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext_lazy as _
from django_otp.plugins.otp_totp.models import TOTPDevice

from audit.services import Actor, ActorKind, RequestMeta, audit_event_record
from notifications.services import outbox_enqueue
from portal.errors import DomainError

from ..models import User
from .second_factor import backup_codes_generate, totp_enrolment_start
from .sessions import sessions_end_others

OWN_PASSWORD_FIRST = _(
    "You signed in with a temporary password: choose your own password first. Until then, nothing else can be changed here."
)
NOT_THE_TEMPORARY_ONE = _("Choose a new password: the temporary one your administrator gave you cannot be kept.")


def _own_password_first(user: User) -> None:
    """A temporary password (set by an admin, who saw it) allows nothing but choosing one's own:
    otherwise whoever saw it could, say, point the recovery email elsewhere before the owner changes it."""
    if user.must_change_password:
        raise DomainError(OWN_PASSWORD_FIRST)


def user_addresses(user: User) -> list[str]:
    return sorted({user.email, user.alternate_email} - {""})


def _after_change(
    user: User, *, meta: RequestMeta, change: str, keep_session_key: str | None, detail: dict[str, Any] | None = None
) -> None:
    audit_event_record(
        actor=Actor(kind=ActorKind.USER, user=user, meta=meta), action=f"security.{change}", target=user, after=detail or {}
    )
    sessions_end_others(user=user, keep_session_key=keep_session_key)
    for address in user_addresses(user):
        outbox_enqueue(
            template="security_changed",
            to_email=address,
            language=user.preferred_language,
            context={"change": change, "ip": meta.ip_address or ""},
            target=user,
        )


@transaction.atomic
def security_change_password(*, user: User, new_password: str, meta: RequestMeta, keep_session_key: str | None) -> User:
    try:
        password_validation.validate_password(new_password, user)
    except ValidationError as exc:  # the form checks the same rules first: this is the service's own guard
        raise DomainError(" ".join(exc.messages)) from exc
    user = User.objects.select_for_update().get(pk=user.pk)
    if user.must_change_password and user.check_password(new_password):
        raise DomainError(NOT_THE_TEMPORARY_ONE)
    user.set_password(new_password)
    user.must_change_password = False
    user.save(update_fields=["password", "must_change_password"])
    _after_change(user, meta=meta, change="password_changed", keep_session_key=keep_session_key)
    return user


@transaction.atomic
def security_set_recovery(
    *, user: User, alternate_email: str, alternate_phone: str, meta: RequestMeta, keep_session_key: str | None
) -> User:
    if alternate_email and alternate_email.lower() == user.email.lower():
        raise DomainError(_("Use an address other than your sign-in email."))
    user = User.objects.select_for_update().get(pk=user.pk)
    _own_password_first(user)
    before = {"alternate_email": user.alternate_email, "alternate_phone": user.alternate_phone}
    notify_old = user.alternate_email
    user.alternate_email = alternate_email.lower()
    user.alternate_phone = alternate_phone
    user.save(update_fields=["alternate_email", "alternate_phone"])
    _after_change(
        user,
        meta=meta,
        change="recovery_changed",
        keep_session_key=keep_session_key,
        detail={"before": before, "after": {"alternate_email": user.alternate_email, "alternate_phone": user.alternate_phone}},
    )
    if notify_old and notify_old not in user_addresses(user):
        # The old address hears of the change too: that is where an owner would notice a takeover.
        outbox_enqueue(
            template="security_changed",
            to_email=notify_old,
            language=user.preferred_language,
            context={"change": "recovery_changed", "ip": meta.ip_address or ""},
            target=user,
        )
    return user


@transaction.atomic
def security_backup_codes_regenerate(*, user: User, meta: RequestMeta, keep_session_key: str | None) -> list[str]:
    _own_password_first(User.objects.select_for_update().get(pk=user.pk))
    codes = backup_codes_generate(user=user, meta=meta)
    _after_change(user, meta=meta, change="backup_codes_regenerated", keep_session_key=keep_session_key)
    return codes


@transaction.atomic
def security_authenticator_replace_start(*, user: User) -> TOTPDevice:
    """A new, unconfirmed authenticator to replace the current one (confirmed on the next page)."""
    _own_password_first(User.objects.select_for_update().get(pk=user.pk))
    return totp_enrolment_start(user=user)


@transaction.atomic
def security_second_factor_replaced(*, user: User, meta: RequestMeta, keep_session_key: str | None) -> None:
    _after_change(user, meta=meta, change="second_factor_replaced", keep_session_key=keep_session_key)
