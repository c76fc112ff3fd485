"""Signing in at /login/: password, second factor (enrolment, TOTP, backup codes), session limits."""

import base64
import re
from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import Membership
from audit.models import AuditEvent
from portal.clock import travel
from tests.factories import PASSWORD

from .signin_helpers import (
    SECURITY,
    code_from,
    form_errors,
    member,
    password_step,
    sign_in,
    signed_in,
    staff,
    tenant_admin,
    text,
    with_authenticator,
    with_backup_codes,
    wrong_code,
)

GENERIC = (
    "The email or password is not right. After several failed attempts, each new try from your network "
    "has to wait longer: check them, and try again later if this keeps happening."
)
WRONG_CODE = "That code is not right"


def _page_without_variable_parts(response):
    page = response.content.decode()
    page = re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", page)
    return re.sub(r'name="email" value="[^"]*"', "", page)


# --- password only ---------------------------------------------------------------------------------


def test_member_signs_in_with_password_and_lands_on_security_page(client, db):
    user = member(email="ana@fabrikam.example")
    assert client.get("/login/").status_code == 200
    response = password_step(client, user)
    assert response.status_code == 302 and response["Location"] == SECURITY
    page = client.get(SECURITY)
    assert page.status_code == 200 and "Security of your account" in text(page)


def test_email_is_matched_without_regard_to_case(client, db):
    member(email="ana@fabrikam.example")
    response = client.post("/login/", {"email": "Ana@Fabrikam.EXAMPLE", "password": PASSWORD})
    assert response["Location"] == SECURITY
    assert signed_in(client)


def test_wrong_password_and_unknown_email_look_the_same(client, db):
    user = member(email="ana@fabrikam.example")
    wrong = client.post("/login/", {"email": user.email, "password": "not-the-password-at-all"})
    unknown = client.post("/login/", {"email": "nobody@fabrikam.example", "password": "not-the-password-at-all"})
    assert wrong.status_code == unknown.status_code == 200
    assert form_errors(wrong) == form_errors(unknown) == GENERIC
    assert _page_without_variable_parts(wrong) == _page_without_variable_parts(unknown)
    assert not signed_in(client)


def test_session_key_changes_at_password_sign_in(client, db):
    user = member()
    session = client.session
    session["seen_before_sign_in"] = True
    session.save()
    before = client.session.session_key
    sign_in(client, user)
    assert client.session.session_key != before


def test_session_key_changes_at_each_step_of_a_two_step_sign_in(client, db):
    user = tenant_admin()
    device = with_authenticator(user)
    session = client.session
    session["seen_before_sign_in"] = True
    session.save()
    before = client.session.session_key
    password_step(client, user)
    pending = client.session.session_key
    client.post("/login/verify/", {"token": code_from(device)})
    assert signed_in(client)
    assert len({before, pending, client.session.session_key}) == 3


# --- enrolment on first sign-in -------------------------------------------------------------------

PRIVILEGED = {
    "global admin": (lambda: tenant_admin(Membership.Role.GLOBAL_ADMIN), "/console/"),
    "user admin": (lambda: tenant_admin(Membership.Role.USER_ADMIN), "/console/"),
    "staff": (staff, "/admin/"),
}


@pytest.mark.parametrize("kind", PRIVILEGED)
def test_privileged_user_without_a_device_enrols_at_first_sign_in(client, db, kind):
    make, landing = PRIVILEGED[kind]
    user = make()
    response = password_step(client, user)
    assert response.status_code == 302 and response["Location"] == "/login/enrol/"
    assert not signed_in(client), "not signed in before the second factor"

    page = client.get("/login/enrol/")
    assert page.status_code == 200
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    qr = re.search(r'<div[^>]*id="qr"[^>]*>(.*?)</div>', page.content.decode(), re.S).group(1)
    assert qr.lstrip().startswith(("<?xml", "<svg")) and "<svg" in qr and "<path" in qr
    secret = base64.b32encode(device.bin_key).decode()
    shown = re.search(r'<code id="secret">([^<]+)</code>', page.content.decode()).group(1)
    assert shown.replace(" ", "") == secret

    response = client.post("/login/enrol/", {"token": code_from(device)})
    assert response.status_code == 302 and response["Location"] == "/login/backup-codes/"
    device.refresh_from_db()
    assert device.confirmed

    codes_page = client.get("/login/backup-codes/")
    shown_codes = re.findall(r"<li>([^<]+)</li>", codes_page.content.decode().split('id="backup-codes"')[1])
    assert len(shown_codes) == 10 == len(set(shown_codes))
    assert set(shown_codes) == set(StaticToken.objects.filter(device__user=user).values_list("token", flat=True))
    assert f'href="{landing}"' in codes_page.content.decode()
    assert client.get("/login/backup-codes/").status_code == 302, "the codes are shown only once"

    assert client.get(landing, follow=True).status_code == 200, "signed in with a verified second factor"
    assert AuditEvent.objects.filter(action="second_factor.enrolled", target_id=str(user.pk)).exists()

    client.post("/logout/")
    assert password_step(client, user)["Location"] == "/login/verify/", "next time, a code is asked for"
    assert client.post("/login/verify/", {"token": code_from(device)})["Location"] == landing


def test_a_wrong_enrolment_code_is_refused(client, db):
    user = tenant_admin()
    password_step(client, user)
    client.get("/login/enrol/")
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    response = client.post("/login/enrol/", {"token": wrong_code(device)})
    assert response.status_code == 200
    assert "That code is not right. Check the time on your phone" in text(response)
    device.refresh_from_db()
    assert not device.confirmed
    assert not signed_in(client)


def test_a_wrong_enrolment_code_counts_against_the_device_and_throttles_the_next_try(client, db):
    """The refusal must not roll back django-otp's failure counter, or enrolment codes could be guessed at full speed."""
    user = tenant_admin()
    # django-otp's back-off reads the real clock: stop it, then move it past the back-off by hand.
    with time_machine.travel(timezone.now(), tick=False) as clock:
        password_step(client, user)
        client.get("/login/enrol/")
        device = TOTPDevice.objects.get(user=user, confirmed=False)
        assert "That code is not right" in text(client.post("/login/enrol/", {"token": wrong_code(device)}))
        device.refresh_from_db()
        assert device.throttling_failure_count == 1

        response = client.post("/login/enrol/", {"token": code_from(device)})
        assert response.status_code == 200 and "That code is not right" in text(response), "the right code, right away, is throttled"
        device.refresh_from_db()
        assert not device.confirmed and device.last_t == -1, "the right code was not even checked"

        clock.shift(timedelta(seconds=1.1))  # django-otp's back-off after one failure: 1 s
        assert client.post("/login/enrol/", {"token": code_from(device)})["Location"] == "/login/backup-codes/"


def test_enrolment_is_not_offered_to_someone_who_already_has_an_authenticator(client, db):
    """Knowing the password must not be enough to swap the authenticator during sign-in."""
    user = tenant_admin()
    device = with_authenticator(user)
    assert password_step(client, user)["Location"] == "/login/verify/"
    response = client.get("/login/enrol/")
    assert response.status_code == 302 and response["Location"] == "/login/verify/"
    assert not TOTPDevice.objects.filter(user=user, confirmed=False).exists()
    assert list(TOTPDevice.objects.filter(user=user)) == [device]
    assert not signed_in(client)


# --- second factor at sign-in -----------------------------------------------------------------------


def test_sign_in_asks_for_a_code_and_a_real_totp_code_works(client, db):
    user = tenant_admin()
    device = with_authenticator(user)
    response = password_step(client, user)
    assert response["Location"] == "/login/verify/"
    page = client.get("/login/verify/")
    assert page.status_code == 200 and "Verify your identity" in text(page) and user.email in text(page)
    assert not signed_in(client)
    response = client.post("/login/verify/", {"token": code_from(device)})
    assert response.status_code == 302 and response["Location"] == "/console/"
    assert client.get("/console/", follow=True).status_code == 200


def test_a_wrong_code_is_refused(client, db):
    user = tenant_admin()
    device = with_authenticator(user)
    password_step(client, user)
    response = client.post("/login/verify/", {"token": wrong_code(device)})
    assert response.status_code == 200 and WRONG_CODE in text(response)
    assert not signed_in(client)


def test_a_member_who_chose_an_authenticator_is_asked_for_it_too(client, db):
    user = member()
    device = with_authenticator(user)
    assert password_step(client, user)["Location"] == "/login/verify/"
    client.post("/login/verify/", {"token": code_from(device)})
    assert signed_in(client)


def test_a_backup_code_works_once_and_only_once(client, db):
    user = tenant_admin()
    with_authenticator(user)
    with_backup_codes(user, "k7m2xq4p", "r5t6y7u2")
    sign_in(client, user, code="k7m2xq4p")
    client.post("/logout/")
    assert not signed_in(client)
    sign_in(client, user, code="r5t6y7u2")
    client.post("/logout/")

    password_step(client, user)
    response = client.post("/login/verify/", {"token": "k7m2xq4p"})
    assert response.status_code == 200 and WRONG_CODE in text(response)
    assert not signed_in(client)
    assert list(StaticToken.objects.filter(device__user=user)) == []


def test_repeated_wrong_codes_are_throttled_even_before_a_right_one(client, db, settings):
    user = tenant_admin()
    device = with_authenticator(user)
    # django-otp's back-off reads the real clock (portal.clock.travel does not move it): stop it, then move it by hand.
    with time_machine.travel(timezone.now(), tick=False) as clock:
        password_step(client, user)
        for _ in range(3):
            response = client.post("/login/verify/", {"token": wrong_code(device)})
            assert WRONG_CODE in text(response)
        device.refresh_from_db()
        back_off = timedelta(seconds=settings.OTP_TOTP_THROTTLE_FACTOR * 2 ** (device.throttling_failure_count - 1))
        ends = device.throttling_failure_timestamp + back_off

        for moment in (ends - back_off, ends - timedelta(milliseconds=1)):
            clock.move_to(moment)
            response = client.post("/login/verify/", {"token": code_from(device)})
            assert response.status_code == 200 and WRONG_CODE in text(response), f"a right code is refused while throttled ({moment})"
            assert not signed_in(client)
        device.refresh_from_db()
        assert device.last_t == -1, "the right code was not accepted"

        clock.move_to(ends)
        response = client.post("/login/verify/", {"token": code_from(device)})
        assert response.status_code == 302
        assert signed_in(client)


def test_the_code_step_expires_after_ten_minutes(client, db):
    user = tenant_admin()
    device = with_authenticator(user)
    password_step(client, user)
    with travel(timedelta(minutes=11)):
        response = client.post("/login/verify/", {"token": code_from(device)})
        assert response.status_code == 302 and response["Location"] == "/login/"
        assert not signed_in(client)


# --- privileged session limits ----------------------------------------------------------------------


def _signed_in_admin(client):
    user = tenant_admin()
    device = with_authenticator(user)
    sign_in(client, user, code=code_from(device))
    return user


def _sent_back_to_login(response):
    return response.status_code == 302 and response["Location"].startswith("/login/?next=")


def test_admin_is_signed_out_after_31_minutes_idle(client, db):
    user = tenant_admin()
    device = with_authenticator(user)
    password_step(client, user)
    assert client.post("/login/verify/", {"token": code_from(device)}).status_code == 302
    # No request at all since the sign-in: idle for 31 minutes.
    with travel(timedelta(minutes=31)):
        response = client.get(SECURITY)
        assert _sent_back_to_login(response)
        assert "Your session has ended" in text(client.get("/login/"))
        assert not signed_in(client)


def test_admin_idle_time_counts_from_the_last_request(client, db):
    _signed_in_admin(client)
    with travel(timedelta(minutes=29)):
        assert signed_in(client)
    with travel(timedelta(minutes=29 + 29)):
        assert signed_in(client)
    with travel(timedelta(minutes=29 + 29 + 31)):
        assert _sent_back_to_login(client.get(SECURITY))


def test_admin_is_signed_out_after_12_hours_even_if_active(client, db):
    _signed_in_admin(client)
    for minutes in range(25, 12 * 60, 25):
        with travel(timedelta(minutes=minutes)):
            assert signed_in(client), f"still signed in after {minutes} minutes"
    with travel(timedelta(hours=12, minutes=5)):
        assert _sent_back_to_login(client.get(SECURITY))
        assert not signed_in(client)


def test_member_is_not_signed_out_when_idle(client, db):
    user = member()
    sign_in(client, user)
    with travel(timedelta(minutes=31)):
        assert signed_in(client)
    with travel(timedelta(hours=11, minutes=31)):
        assert signed_in(client)


def test_a_member_goes_where_they_were_going(client, db):
    user = member()
    response = client.post("/login/?next=/requests/new/", {"email": user.email, "password": PASSWORD, "next": "/requests/new/"})
    assert response["Location"] == "/requests/new/"
    evil = Client().post("/login/", {"email": user.email, "password": PASSWORD, "next": "https://evil.example/"})
    assert evil["Location"] == SECURITY


def test_the_timeout_keeps_the_whole_page_address(client, db):
    _signed_in_admin(client)
    with travel(timedelta(minutes=31)):
        response = client.get(SECURITY + "?tab=password")
    assert response["Location"] == "/login/?next=%2Faccount%2Fsecurity%2F%3Ftab%3Dpassword"
