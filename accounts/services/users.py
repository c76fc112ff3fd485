"""Creating users and setting their first password."""

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.db import transaction
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from audit.services import Actor, audit_event_record

from ..models import Tenant, User


@transaction.atomic
def user_create_inactive(*, actor: Actor, email: str, full_name: str, tenant: Tenant, language: str = "en") -> User:
    """Create a user with no usable password, inactive until they set one from a single-use link."""
    user = User.objects.create_user(email=email, password=None, full_name=full_name, is_active=False, preferred_language=language)
    audit_event_record(actor=actor, action="user.created", target=user, tenant=tenant, after={"email": user.email})
    return user


@transaction.atomic
def user_set_initial_password(*, user: User, password: str, actor: Actor) -> User:
    """Set the password from a set-password link and activate the account. Writes ``password.set``."""
    user = User.objects.select_for_update().get(pk=user.pk)
    user.set_password(password)
    # Only a new account (invited or elevated, never signed in) is activated by its link; a
    # deactivated account stays deactivated.
    activated = not user.is_active and user.last_login is None
    if activated:
        user.is_active = True
    user.save(update_fields=["password", "is_active"])
    audit_event_record(actor=actor, action="password.set", target=user, after={"activated": activated})
    return user


def password_link(user: User) -> str:
    """A single-use set-password link (Django's token dies with the password), valid PASSWORD_RESET_TIMEOUT,
    built from SITE_URL, never from the request's Host header."""
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    return settings.SITE_URL + reverse("accounts:set_password", args=[uid, default_token_generator.make_token(user)])


@transaction.atomic
def user_reactivate_for_elevation(*, actor: Actor, user: User, tenant: Tenant) -> User:
    """Turn an existing account back on for an approved elevation, with no usable password: the
    new admin gets in only through the single-use set-password link. Writes ``user.reactivated``."""
    user = User.objects.select_for_update().get(pk=user.pk)
    user.set_unusable_password()
    user.is_active = True
    user.frozen_at = None
    user.save(update_fields=["password", "is_active", "frozen_at"])
    audit_event_record(actor=actor, action="user.reactivated", target=user, tenant=tenant)
    return user
