"""Password sign-in, throttled without letting a stranger lock the owner out (NIST SP 800-63B-4 §3.2.2).

- **Throttle**: wrong passwords are counted per account *and* client network (``THROTTLE``, a growing
  delay: after 5 failures in 5 minutes the next try waits for the window's end, after 10 in the hour
  for the hour's, after 20 in the day for the day's). A stranger slows only themselves: the owner's
  network has counters of its own.
- **Ceiling**: after ``SIGNIN_FAILURE_CEILING`` (100) wrong passwords in a row on an account, sign-in
  is refused from networks the account never signed in from in ``FAMILIAR_FOR``; the owner, on a network
  they signed in from (password and second factor), still gets in. The owner is emailed once; an
  admin may lift it (console "Unlock", ``console_unfreeze``), and the owner's next sign-in ends it.
- **Someone knows the password**: a wrong second-factor code after the right password is audited, and
  the owner is told what to do, at most once a day (``signin_second_factor_failed``).
- **One answer**: a missing, inactive, frozen, throttled or capped account and a wrong password get the
  same message, after the same work: the password hasher runs once on every path (a dummy hash of the
  same cost where there is no password to check), and what follows it is padded to ``REFUSAL_TIME``.
"""

from datetime import timedelta

from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext_lazy as _

from audit.services import Actor, ActorKind, RequestMeta, audit_event_record
from notifications.models import OutboxMessage
from notifications.services import outbox_enqueue
from portal.clock import now
from portal.errors import DomainError

from .. import selectors
from ..models import User
from ..policy import SIGNIN_FAILURE_CEILING
from .security import user_addresses
from .throttle import client_network, failure_counted, failures_exhausted, taking_at_least

THROTTLE_GROUP = "signin.throttle"
THROTTLE = ("5/5m", "10/h", "20/d")
# A network the account signed in from this recently is its owner's: the ceiling does not apply there.
FAMILIAR_FOR = timedelta(days=90)
# What follows the hash (the decision, the failure's audit event and count) is padded to this, so that
# an existing account's refusal, which writes, takes as long as a missing one's, which does not.
REFUSAL_TIME = 0.06


class SignInError(DomainError):
    """A sign-in was refused (one message for every reason)."""


GENERIC = _(
    "The email or password is not right. After several failed attempts, each new try from your network "
    "has to wait longer: check them, and try again later if this keeps happening."
)


def _password_matches(user: User | None, password: str) -> bool:
    """Run the password hasher exactly once, whether or not there is a password to check."""
    if user is not None and user.has_usable_password():
        return user.check_password(password)
    make_password(password)  # the same cost, for a missing account or one without a password
    return False


def _throttle_key(email: str, user: User | None, meta: RequestMeta) -> str:
    # Keyed on the typed email, not on the account, so that a missing account is throttled alike.
    lifted = user.signin_throttle_lifted_at.isoformat() if user is not None and user.signin_throttle_lifted_at else ""
    return f"{email}|{client_network(meta.ip_address)}|{lifted}"


def _refusal(user: User | None, password_ok: bool, *, throttled: bool, meta: RequestMeta) -> str | None:
    """Why this attempt is refused, or None. The password is never what decides a refusal's answer."""
    if user is None:
        return "unknown"
    if not user.is_active:
        return "inactive"
    if user.frozen_at:
        return "frozen"
    if throttled:
        return "throttled"
    if user.failed_login_count >= SIGNIN_FAILURE_CEILING and not selectors.signed_in_from_network(
        user, meta.ip_address, since=now() - FAMILIAR_FOR
    ):
        return "ceiling"
    if not password_ok:
        return "wrong_password"
    return None


def signin_authenticate(*, email: str, password: str, meta: RequestMeta) -> User:
    """Check the password, under the throttle and the ceiling. Returns the user, who still needs their
    second factor if they have or need one.

    Raises SignInError with one message, after the same work, for every refusal (missing, inactive,
    frozen, throttled or capped account, wrong password), so that neither the page nor its timing tells
    which accounts exist. A refusal of an existing account writes ``signin.failed`` and counts toward the
    ceiling, which, when reached, writes ``account.locked`` and emails the owner.
    """
    email = (email or "").strip().lower()
    user = User.objects.filter(email__iexact=email).first()
    password_ok = _password_matches(user, password)
    key = _throttle_key(email, user, meta)
    with taking_at_least(REFUSAL_TIME):
        reason = _refusal(user, password_ok, throttled=failures_exhausted(group=THROTTLE_GROUP, value=key, rates=THROTTLE), meta=meta)
        if reason is None and user is not None:
            return user
        failure_counted(group=THROTTLE_GROUP, value=key, rates=THROTTLE)
        if user is not None:
            _record_failure(user, meta, reason or "")
    raise SignInError(GENERIC)


@transaction.atomic
def _record_failure(user: User, meta: RequestMeta, reason: str) -> None:
    User.objects.filter(pk=user.pk).update(failed_login_count=F("failed_login_count") + 1)
    count = User.objects.values_list("failed_login_count", flat=True).get(pk=user.pk)
    actor = Actor(kind=ActorKind.ANONYMOUS, label="sign-in attempt", meta=meta)
    audit_event_record(actor=actor, action="signin.failed", target=user, after={"count": count, "reason": reason})
    if count == SIGNIN_FAILURE_CEILING:
        audit_event_record(actor=actor, action="account.locked", target=user, after={"count": count})
        for address in user_addresses(user):
            outbox_enqueue(
                template="account_locked",
                to_email=address,
                language=user.preferred_language,
                context={"count": count, "ip": meta.ip_address or ""},
                target=user,
            )


@transaction.atomic
def signin_record_success(*, user: User, meta: RequestMeta, method: str) -> None:
    """Reset the failure count (the ceiling counts failures in a row) and record the sign-in
    (``signin.succeeded``, shown on the security page; its network becomes a familiar one)."""
    User.objects.filter(pk=user.pk).update(failed_login_count=0, last_login=now())
    audit_event_record(
        actor=Actor(kind=ActorKind.USER, user=user, meta=meta), action="signin.succeeded", target=user, after={"method": method}
    )


# A wrong second-factor code after the right password: the owner hears at most this often.
PASSWORD_KNOWN_NOTICE_EVERY = timedelta(hours=24)


@transaction.atomic
def signin_second_factor_failed(*, user: User, meta: RequestMeta) -> None:
    """The right password, then a wrong second-factor code: someone may know the password.

    Atomic. Writes ``signin.second_factor_failed`` every time, and emails the account's addresses what to
    do at most once per ``PASSWORD_KNOWN_NOTICE_EVERY`` (the user's row is locked, so that simultaneous
    wrong codes send one email): a stranger with the password cannot use it to flood the owner's mailbox.
    """
    user = User.objects.select_for_update().get(pk=user.pk)
    audit_event_record(
        actor=Actor(kind=ActorKind.ANONYMOUS, label="sign-in attempt", meta=meta), action="signin.second_factor_failed", target=user
    )
    told_recently = OutboxMessage.objects.filter(
        template="password_known",
        target_type=user._meta.label_lower,
        target_id=str(user.pk),
        created_at__gte=now() - PASSWORD_KNOWN_NOTICE_EVERY,
    ).exists()
    if told_recently:
        return
    for address in user_addresses(user):
        outbox_enqueue(
            template="password_known",
            to_email=address,
            language=user.preferred_language,
            context={"ip": meta.ip_address or ""},
            target=user,
        )
