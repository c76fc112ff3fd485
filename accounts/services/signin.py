"""Password sign-in with lockout: 10 failures in a row lock the account for a while and tell its owner."""

from datetime import timedelta

from django.contrib.auth import authenticate
from django.db import transaction
from django.db.models import F
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from audit.services import Actor, ActorKind, RequestMeta, audit_event_record
from notifications.services import outbox_enqueue
from portal.clock import now
from portal.errors import DomainError

from ..models import User

LOCKOUT_THRESHOLD = 10
LOCKOUT_PERIOD = timedelta(minutes=30)


class SignInError(DomainError):
    """A sign-in was refused (one message for every reason)."""


GENERIC = _("The email or password is not right. After 10 failed attempts the account is locked for 30 minutes.")


def signin_authenticate(*, request: HttpRequest, email: str, password: str, meta: RequestMeta) -> User:
    """Check the password. Counts failures; the 10th in a row locks the account and emails its owner.

    Raises SignInError with one message for every failure (wrong password, unknown user, locked,
    inactive), so that the page does not tell which accounts exist.
    """
    email = (email or "").strip().lower()
    user = User.objects.filter(email__iexact=email).first()
    if user is not None and user.locked_until and user.locked_until > now():
        raise SignInError(GENERIC)
    if user is not None and user.frozen_at:
        raise SignInError(GENERIC)
    authenticated = authenticate(request, username=email, password=password)
    if authenticated is None:
        if user is not None:
            _record_failure(user, meta)
        raise SignInError(GENERIC)
    return authenticated


@transaction.atomic
def _record_failure(user: User, meta: RequestMeta) -> None:
    User.objects.filter(pk=user.pk).update(failed_login_count=F("failed_login_count") + 1)
    user = User.objects.select_for_update().get(pk=user.pk)
    actor = Actor(kind=ActorKind.ANONYMOUS, label="sign-in attempt", meta=meta)
    audit_event_record(actor=actor, action="signin.failed", target=user, after={"count": user.failed_login_count})
    if user.failed_login_count >= LOCKOUT_THRESHOLD:
        user.locked_until = now() + LOCKOUT_PERIOD
        user.failed_login_count = 0
        user.save(update_fields=["locked_until", "failed_login_count"])
        audit_event_record(actor=actor, action="account.locked", target=user, after={"until": user.locked_until.isoformat()})
        for address in {user.email, user.alternate_email} - {""}:
            outbox_enqueue(
                template="account_locked",
                to_email=address,
                language=user.preferred_language,
                context={"minutes": int(LOCKOUT_PERIOD.total_seconds() // 60), "ip": meta.ip_address or ""},
                target=user,
            )


@transaction.atomic
def signin_record_success(*, user: User, meta: RequestMeta, method: str) -> None:
    """Reset the failure count and record the sign-in (``signin.succeeded``, shown on the security page)."""
    User.objects.filter(pk=user.pk).update(failed_login_count=0, locked_until=None, last_login=now())
    audit_event_record(
        actor=Actor(kind=ActorKind.USER, user=user, meta=meta), action="signin.succeeded", target=user, after={"method": method}
    )
