"""What a person does at /login/ and on /account/security/: type a password, read a code off their phone."""

import html
import re
import time

from django.test import Client
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import Membership
from tests import factories
from tests.factories import PASSWORD

SECURITY = "/account/security/"


def member(**kwargs):
    return factories.MembershipFactory(user=factories.UserFactory(**kwargs), role=Membership.Role.MEMBER).user


def tenant_admin(role=Membership.Role.GLOBAL_ADMIN, **kwargs):
    return factories.MembershipFactory(user=factories.UserFactory(**kwargs), role=role).user


def staff(**kwargs):
    return factories.UserFactory(is_staff=True, **kwargs)


def with_authenticator(user) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="authenticator app", confirmed=True)


def with_backup_codes(user, *codes) -> list[str]:
    device = StaticDevice.objects.create(user=user, name="backup codes", confirmed=True)
    for code in codes:
        StaticToken.objects.create(device=device, token=code)
    return list(codes)


def code_from(device) -> str:
    """The 6 digits the authenticator app shows now, for a time step the device has not accepted yet.

    TOTP refuses a replayed step, so a test that needs a second code takes the next step
    (within the device's tolerance), as a person would wait for the next code.
    """
    device.refresh_from_db()
    step_now = (int(time.time()) - device.t0) // device.step
    for drift in (device.drift, device.drift + 1):
        if step_now + drift > device.last_t:
            return f"{totp(device.bin_key, device.step, device.t0, device.digits, drift):06d}"
    raise AssertionError("no unused time step within tolerance")


def wrong_code(device) -> str:
    """Six digits that no nearby time step of ``device`` produces."""
    device.refresh_from_db()
    valid = {
        f"{totp(device.bin_key, device.step, device.t0, device.digits, d):06d}" for d in range(device.drift - 3, device.drift + 4)
    }
    return next(c for c in (f"{n:06d}" for n in range(1000)) if c not in valid)


def password_step(client, user, password=PASSWORD):
    return client.post("/login/", {"email": user.email, "password": password})


def sign_in(client, user, code=None, password=PASSWORD):
    """Sign in through /login/ (and /login/verify/ with ``code`` if the user has a second factor)."""
    response = password_step(client, user, password)
    if code is not None:
        assert response.status_code == 302 and response["Location"] == "/login/verify/", response
        response = client.post("/login/verify/", {"token": code})
    assert response.status_code == 302, response.content.decode()[:3000]
    assert signed_in(client), "sign-in did not complete"
    return response


def new_client_signed_in(user, code=None, password=PASSWORD) -> Client:
    other = Client()
    sign_in(other, user, code, password)
    return other


def signed_in(client) -> bool:
    """Whether the security page opens (a signed-out person is sent to /login/)."""
    return client.get(SECURITY).status_code == 200


def text(response) -> str:
    return html.unescape(response.content.decode())


def field_error(response, field_id) -> str:
    """The error text crispy shows under the input with HTML id ``field_id`` ("" when there is none)."""
    page = response.content.decode()
    match = re.search(r'id="error_\d+_' + re.escape(field_id) + r'"[^>]*>(.*?)</(?:div|span|p)>', page, re.S)
    return html.unescape(re.sub(r"<[^>]+>", "", match.group(1))).strip() if match else ""


def form_errors(response) -> str:
    """The form-wide error box (non-field errors)."""
    page = response.content.decode()
    match = re.search(r'class="alert alert-block alert-danger"[^>]*>(.*?)</div>', page, re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", match.group(1))).strip() if match else ""
