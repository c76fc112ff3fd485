"""Self-service password reset, after the seed page and Entra's published behaviour.

- Nothing says whether an account exists: a reset session is made for any user ID once the
  CAPTCHA is passed, and every page after it is the same for a missing and an existing account.
  Only the organisation's switch (by email domain) may change the page. Where it is off, and for a
  domain of no organisation, the page is one and the same: it names no organisation and says nothing
  about its admins, so that it cannot be used to list customers or find those with no admin left.
- Codes go to the user's alternate email, last 5 minutes and work once; more than 10 code emails in
  10 minutes are refused; a session lasts 15 minutes.
- Wrong codes are counted where a stranger cannot reach the owner: 5 end the reset session that made
  them, 10 in a day stop the network (client address) that made them for that user ID. Only 100 in a
  row on one account, across every session and network (NIST SP 800-63B-4 §3.2.2), block its
  self-service reset for 24 hours. The code that verified a session is not a wrong code when the same
  session sends it again (a double click).
- The steps after the CAPTCHA take the same time for a missing and an existing account
  (``STEP_TIME``): their work differs (an email, a counter), their answer's time does not.
- A user with an authenticator must give its code too; admins always need two methods.
- Success ends every session, never signs the user in, and tells the user and the tenant's global
  admins, each with a "this wasn't me" link of their own that freezes the account; an admin's link does
  not freeze the tenant's last global admin, it alerts support.
"""

import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import F
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django_otp.plugins.otp_totp.models import TOTPDevice

from audit.services import Actor, ActorKind, RequestMeta, audit_event_record
from notifications.models import OutboxMessage
from notifications.services import outbox_enqueue
from portal import tokens
from portal.clock import now
from portal.errors import DomainError
from portal.transactions import commit_then_raise

from .. import policy, selectors
from ..models import AccountFreezeLink, Membership, PasswordResetSession, Tenant, User
from ..notify import tell_support, tell_tenant_admins
from .security import NOT_THE_TEMPORARY_ONE, user_addresses
from .sessions import sessions_end_others
from .throttle import answered_in_at_least, client_network, failure_counted, failures_exhausted

SESSION_LIFETIME = timedelta(minutes=15)
CODE_LIFETIME = timedelta(minutes=5)
MAX_WRONG_CODES_PER_SESSION = 5
WRONG_CODES_GROUP = "reset.wrong_code"
WRONG_CODES_PER_NETWORK = ("10/d",)
WRONG_CODES_CEILING = 100
BLOCK_PERIOD = timedelta(hours=24)
# The code, verify and policy-off steps are padded to this, so that their time tells no account apart.
STEP_TIME = 0.06
MAX_CODES_PER_WINDOW = 10
CODE_WINDOW = timedelta(minutes=10)
FREEZE_LINK_LIFETIME = timedelta(days=7)


class ResetError(DomainError):
    """A self-service reset step was refused."""


WRONG_CODE = _("The code is not right or has expired. Check your alternate email for the latest code.")
EXPIRED = _("This reset has expired: start again.")


@dataclass(frozen=True)
class Policy:
    """What the organisation of an email domain allows.

    Only ``self_service`` may change the page. ``tenant`` is for telling its admins, never for the page:
    showing it would tell anyone who types a user ID which domains are customers and what they are called.
    """

    tenant: Tenant | None
    self_service: bool


def reset_policy_for(email: str) -> Policy:
    """The policy for the email's domain. A domain of no organisation gets the "off" policy, so that its
    page is the same as that of an organisation that turned self-service off: nobody can tell them apart."""
    tenant = selectors.tenant_for_domain(selectors.email_domain(email))
    if tenant is None:
        return Policy(None, False)
    return Policy(tenant, tenant.self_service_reset_enabled)


def user_may_self_reset(user: User) -> bool:
    """One of the user's tenants allows it, for everyone or for this user (selected users only)."""
    for membership in Membership.objects.filter(user=user).select_related("tenant"):
        tenant = membership.tenant
        if tenant.self_service_reset_enabled and (
            tenant.self_service_reset_scope == Tenant.ResetScope.ALL or membership.self_service_reset_allowed
        ):
            return True
    return False


def _eligible_user(email: str) -> User | None:
    user = User.objects.filter(email__iexact=email.strip(), is_active=True, frozen_at__isnull=True).first()
    if user is None or user.is_staff:
        return None  # staff recover through their supervisor, never by self-service
    return user


@transaction.atomic(durable=True)
def reset_start(*, email: str, meta: RequestMeta) -> tuple[PasswordResetSession, str]:
    """Open a 15-minute reset session for ``email`` (known or not). Returns it and its raw token."""
    raw, digest = tokens.new_token()
    moment = now()
    session = PasswordResetSession.objects.create(
        token_hash=digest,
        user=_eligible_user(email),
        email=email.strip().lower(),
        created_at=moment,
        expires_at=moment + SESSION_LIFETIME,
    )
    return session, raw


def reset_session_for(raw_token: str | None) -> PasswordResetSession | None:
    if not raw_token:
        return None
    session = PasswordResetSession.objects.select_related("user").filter(token_hash=tokens.digest(raw_token)).first()
    if session is None or session.completed_at or now() > session.expires_at:
        return None
    return session


@answered_in_at_least(STEP_TIME)
@transaction.atomic
def reset_tell_admins(*, session: PasswordResetSession, policy_: Policy, meta: RequestMeta) -> None:
    """Policy off: the user's admins hear that they asked (once per session, only for a real account)."""
    session = PasswordResetSession.objects.select_for_update().get(pk=session.pk)
    if session.admins_told_at or session.user is None or policy_.tenant is None:
        return
    if not Membership.objects.filter(user=session.user, tenant=policy_.tenant).exists():
        return
    session.admins_told_at = now()
    session.save(update_fields=["admins_told_at"])
    tell_tenant_admins(
        policy_.tenant,
        template="reset_requested_admins",
        exclude=[session.user],
        target=session.user,
        context={
            "user_email": session.user.email,
            "console_url": settings.SITE_URL + reverse("console:users", args=[policy_.tenant.pk]),
        },
    )
    audit_event_record(
        actor=Actor(kind=ActorKind.ANONYMOUS, label="self-service reset", meta=meta),
        action="password.reset_requested",
        target=session.user,
        tenant=policy_.tenant,
    )


def _blocked(user: User | None) -> bool:
    return bool(user and user.reset_blocked_until and user.reset_blocked_until > now())


@answered_in_at_least(STEP_TIME)
@transaction.atomic
def reset_send_code(*, session: PasswordResetSession, meta: RequestMeta) -> None:
    """Email a new 6-digit code to the alternate email, if the account can reset. Silent otherwise.

    Nothing is sent to a session already verified (its code stays the one it used) or stopped by its
    wrong codes. Takes ``STEP_TIME`` whether or not an email is written."""
    session = PasswordResetSession.objects.select_for_update(of=("self",)).select_related("user").get(pk=session.pk)
    user = session.user
    if user is None or not user.alternate_email or _blocked(user):
        return
    if session.verified_at or session.wrong_codes >= MAX_WRONG_CODES_PER_SESSION:
        return
    if not user_may_self_reset(user):
        return
    sent_recently = OutboxMessage.objects.filter(
        template="reset_code",
        target_type=user._meta.label_lower,
        target_id=str(user.pk),
        created_at__gte=now() - CODE_WINDOW,
    ).count()
    if sent_recently >= MAX_CODES_PER_WINDOW:
        # Silent, like every other "no code" case, so that the page does not reveal the account.
        return
    code = f"{secrets.randbelow(10**6):06d}"
    session.code_hash = tokens.digest(code)
    session.code_expires_at = now() + CODE_LIFETIME
    session.codes_sent += 1
    session.save(update_fields=["code_hash", "code_expires_at", "codes_sent"])
    outbox_enqueue(
        template="reset_code",
        to_email=user.alternate_email,
        language=user.preferred_language,
        context={"minutes": 5},
        secrets={"code": code},
        target=user,
    )


def methods_required(user: User | None) -> list[str]:
    """Which proofs this account must give: the emailed code, plus the authenticator if it has one."""
    if user is None:
        return ["email"]
    has_totp = TOTPDevice.objects.filter(user=user, confirmed=True).exists()
    return ["email", "totp"] if has_totp or policy.requires_second_factor(user) else ["email"]


def _network_key(session: PasswordResetSession, meta: RequestMeta) -> str:
    # The typed user ID, not the account: a missing account is counted alike.
    return f"{session.email}|{client_network(meta.ip_address)}"


@answered_in_at_least(STEP_TIME)
@commit_then_raise
def reset_verify(*, session: PasswordResetSession, code: str, token: str, meta: RequestMeta) -> PasswordResetSession | ResetError:
    """Check the emailed code (and authenticator code where needed).

    Atomic. A wrong code counts against this session, this network for this user ID, and, for an
    existing account, the account's ceiling (``WRONG_CODES_CEILING`` in a row: blocked for
    ``BLOCK_PERIOD``, ``password.reset_blocked``). The code that verified this session, sent again by
    it, verifies nothing new and counts as nothing (a double click): the session is returned.
    Raises ResetError, after the commit, so that the counts and django-otp's throttling survive the
    refusal (the refusals below are returned to ``commit_then_raise``). Takes ``STEP_TIME``.
    """
    session = PasswordResetSession.objects.select_for_update(of=("self",)).select_related("user").get(pk=session.pk)
    if now() > session.expires_at:
        return ResetError(EXPIRED)
    user = session.user
    code = (code or "").strip()
    if session.verified_at and session.code_hash and tokens.matches(code, session.code_hash):
        return session
    stopped = (
        session.verified_at is not None
        or session.wrong_codes >= MAX_WRONG_CODES_PER_SESSION
        or _blocked(user)
        or failures_exhausted(group=WRONG_CODES_GROUP, value=_network_key(session, meta), rates=WRONG_CODES_PER_NETWORK)
    )
    code_ok = bool(
        not stopped
        and session.code_hash
        and session.code_expires_at
        and now() <= session.code_expires_at
        and tokens.matches(code, session.code_hash)
    )
    totp_ok = True
    # The authenticator code is checked only with a right emailed code, so a typo in the emailed
    # code does not use up the current authenticator code.
    if code_ok and user is not None and "totp" in methods_required(user):
        device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
        totp_ok = bool(device and device.verify_is_allowed()[0] and device.verify_token((token or "").strip()))
    if not (code_ok and totp_ok and user is not None):
        _count_wrong_code(session, user, meta)
        return ResetError(WRONG_CODE)
    # The code's digest stays: it is how this session recognises its own code sent again.
    session.verified_at = now()
    session.save(update_fields=["verified_at"])
    User.objects.filter(pk=user.pk).update(reset_failed_codes=0)
    return session


def _count_wrong_code(session: PasswordResetSession, user: User | None, meta: RequestMeta) -> None:
    PasswordResetSession.objects.filter(pk=session.pk).update(wrong_codes=F("wrong_codes") + 1)
    failure_counted(group=WRONG_CODES_GROUP, value=_network_key(session, meta), rates=WRONG_CODES_PER_NETWORK)
    if user is None:
        return
    User.objects.filter(pk=user.pk).update(reset_failed_codes=F("reset_failed_codes") + 1)
    if User.objects.values_list("reset_failed_codes", flat=True).get(pk=user.pk) >= WRONG_CODES_CEILING:
        User.objects.filter(pk=user.pk).update(reset_failed_codes=0, reset_blocked_until=now() + BLOCK_PERIOD)
        audit_event_record(
            actor=Actor(kind=ActorKind.ANONYMOUS, label="self-service reset", meta=meta),
            action="password.reset_blocked",
            target=user,
            after={"wrong_codes_in_a_row": WRONG_CODES_CEILING},
        )


@transaction.atomic(durable=True)
def reset_complete(*, session: PasswordResetSession, new_password: str, meta: RequestMeta) -> User:
    """Set the new password after verification. Ends every session; the user is not signed in."""
    session = PasswordResetSession.objects.select_for_update(of=("self",)).select_related("user").get(pk=session.pk)
    if session.verified_at is None or session.completed_at or now() > session.expires_at:
        raise ResetError(EXPIRED)
    if session.user_id is None:
        raise ResetError(EXPIRED)
    user = User.objects.select_for_update().get(pk=session.user_id)
    if not user.is_active or user.frozen_at:
        raise ResetError(EXPIRED)
    try:
        password_validation.validate_password(new_password, user)
    except ValidationError as exc:  # the form checks the same rules first: this is the service's own guard
        raise ResetError(" ".join(exc.messages)) from exc
    if user.must_change_password and user.check_password(new_password):
        raise ResetError(NOT_THE_TEMPORARY_ONE)  # the admin who set it saw it
    user.set_password(new_password)
    user.must_change_password = False
    user.save(update_fields=["password", "must_change_password"])
    session.completed_at = now()
    session.save(update_fields=["completed_at"])
    sessions_end_others(user=user, keep_session_key=None)
    tenant_ids = Membership.objects.filter(user=user).values_list("tenant_id", flat=True)
    tenant = Tenant.objects.filter(pk__in=tenant_ids).first()
    audit_event_record(
        actor=Actor(kind=ActorKind.USER, user=user, meta=meta), action="password.reset_self_service", target=user, tenant=tenant
    )
    owner_link = _freeze_link(user, recipient=None)
    for address in user_addresses(user):
        outbox_enqueue(
            template="password_reset_done",
            to_email=address,
            language=user.preferred_language,
            context={"ip": meta.ip_address or ""},
            secrets={"freeze_url": owner_link},
            target=user,
        )
    if tenant is not None:
        # Only global admins get a link: a user admin could otherwise freeze the only global admin, whom
        # nobody would then be left to unfreeze. Each admin's link is their own (``account_freeze``).
        for admin in selectors.tenant_active_global_admins(tenant).exclude(pk=user.pk):
            outbox_enqueue(
                template="password_reset_done_admins",
                to_email=admin.email,
                language=admin.preferred_language,
                context={"user_email": user.email, "ip": meta.ip_address or "", "tenant": tenant.legal_name},
                secrets={"freeze_url": _freeze_link(user, recipient=admin)},
                target=user,
            )
    User.objects.filter(pk=user.pk).update(reset_failed_codes=0, failed_login_count=0)
    return user


def _freeze_link(user: User, *, recipient: User | None) -> str:
    raw, digest = tokens.new_token()
    AccountFreezeLink.objects.create(user=user, recipient=recipient, token_hash=digest, expires_at=now() + FREEZE_LINK_LIFETIME)
    return settings.SITE_URL + reverse("reset:freeze") + f"?token={raw}"


class FreezeOutcome(models.TextChoices):
    FROZEN = "frozen"
    SENT_TO_SUPPORT = "sent_to_support"


def _last_global_admin_in(user: User) -> Tenant | None:
    """A tenant where ``user`` is a global admin and no other active, unfrozen global admin remains.

    Locks those tenants' rows, so that two admins freezing each other at once cannot both pass."""
    tenant_ids = Membership.objects.filter(user=user, role=Membership.Role.GLOBAL_ADMIN).values_list("tenant_id", flat=True)
    for tenant in Tenant.objects.select_for_update().filter(pk__in=list(tenant_ids)).order_by("pk"):
        others = selectors.tenant_active_global_admins(tenant).exclude(pk=user.pk).filter(frozen_at__isnull=True)
        if not others.exists():
            return tenant
    return None


@transaction.atomic(durable=True)
def account_freeze(*, raw_token: str, meta: RequestMeta) -> FreezeOutcome | None:
    """ "This wasn't me": freeze the account, end its sessions and alert the admins. Single use.

    A link sent to an admin (not to the account's own addresses) does not freeze a global admin who is
    the last active one of a tenant: nobody would be left to unfreeze them. Support's supervisors are
    alerted instead (``account.freeze_sent_to_support``), to call the tenant back and act. Returns what
    was done, or None for a link that is not valid.
    """
    link = (
        AccountFreezeLink.objects.select_for_update(of=("self",))
        .select_related("user", "recipient")
        .filter(token_hash=tokens.digest(raw_token or ""))
        .first()
    )
    if link is None or link.used_at or now() > link.expires_at:
        return None
    link.used_at = now()
    link.save(update_fields=["used_at"])
    user = link.user
    actor = Actor(kind=ActorKind.ANONYMOUS, label="this-was-not-me link", meta=meta)
    by = link.recipient.email if link.recipient else user.email
    last_admin_of = _last_global_admin_in(user) if link.recipient is not None else None
    if last_admin_of is not None:
        audit_event_record(actor=actor, action="account.freeze_sent_to_support", target=user, tenant=last_admin_of, after={"by": by})
        tell_support(
            template="freeze_sent_to_support",
            context={"user_email": user.email, "by": by, "tenant": last_admin_of.legal_name, "ip": meta.ip_address or ""},
            target=user,
        )
        return FreezeOutcome.SENT_TO_SUPPORT
    User.objects.filter(pk=user.pk).update(frozen_at=now())
    sessions_end_others(user=user, keep_session_key=None)
    tenant = Tenant.objects.filter(memberships__user=user).first()
    audit_event_record(actor=actor, action="account.frozen", target=user, tenant=tenant, after={"by": by})
    if tenant is not None:
        tell_tenant_admins(tenant, template="account_frozen_admins", exclude=[user], target=user, context={"user_email": user.email})
    return FreezeOutcome.FROZEN
