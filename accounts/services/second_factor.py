"""TOTP enrolment, backup codes and token checks (django-otp devices, with their throttling)."""

from django.db import transaction
from django.utils.translation import gettext_lazy as _
from django_otp.models import Device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from audit.services import Actor, ActorKind, RequestMeta, audit_event_record
from portal.errors import DomainError
from portal.transactions import commit_then_raise

from ..models import User

BACKUP_CODES = 10


class SecondFactorError(DomainError):
    """A token or enrolment was refused."""


def totp_enrolment_start(*, user: User) -> TOTPDevice:
    """A new, unconfirmed authenticator for ``user`` (replacing any earlier unconfirmed one)."""
    TOTPDevice.objects.filter(user=user, confirmed=False).delete()
    return TOTPDevice.objects.create(user=user, name="authenticator app", confirmed=False)


@commit_then_raise
def totp_enrolment_confirm(*, user: User, device_id: int, token: str, meta: RequestMeta) -> list[str] | SecondFactorError:
    """Confirm the new authenticator with a token from it; replace the old one and the backup codes.

    Atomic. Returns the new backup codes (shown once). Writes ``second_factor.enrolled``.
    Raises SecondFactorError after the commit, so that django-otp's throttling counter, raised by a
    wrong code, survives the refusal (the refusals below are returned to ``commit_then_raise``).
    """
    device = TOTPDevice.objects.select_for_update().filter(pk=device_id, user=user, confirmed=False).first()
    if device is None:
        return SecondFactorError(_("This enrolment has expired; start again."))
    allowed, _extra = device.verify_is_allowed()
    if not allowed or not device.verify_token((token or "").strip()):
        return SecondFactorError(_("That code is not right. Check the time on your phone and try the next code."))
    TOTPDevice.objects.filter(user=user, confirmed=True).exclude(pk=device.pk).delete()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    audit_event_record(
        actor=Actor(kind=ActorKind.USER, user=user, meta=meta), action="second_factor.enrolled", target=user, after={"device": "totp"}
    )
    return backup_codes_generate(user=user, meta=meta)


@transaction.atomic
def backup_codes_generate(*, user: User, meta: RequestMeta) -> list[str]:
    """Ten new single-use backup codes; the old ones stop working. Writes ``backup_codes.generated``."""
    device, _created = StaticDevice.objects.get_or_create(user=user, name="backup codes", defaults={"confirmed": True})
    device.token_set.all().delete()
    codes = [StaticToken.random_token() for _ in range(BACKUP_CODES)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=c) for c in codes)
    audit_event_record(actor=Actor(kind=ActorKind.USER, user=user, meta=meta), action="backup_codes.generated", target=user)
    return codes


def second_factor_verify(*, user: User, token: str) -> Device | None:
    """The device that accepts ``token`` (authenticator code or backup code), or None.

    The token's shape picks the device, so a typo does not count against the other one;
    django-otp throttles repeated failures on each device.
    """
    token = (token or "").strip().replace(" ", "")
    model = TOTPDevice if token.isdigit() and len(token) == 6 else StaticDevice
    for device in model.objects.devices_for_user(user, confirmed=True):
        allowed, _extra = device.verify_is_allowed()
        if allowed and device.verify_token(token):
            return device
    return None
