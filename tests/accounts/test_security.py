"""/account/security/: every change asks for the password (and a code), ends the other sessions and is told."""

import base64
import re

import pytest
from django.test import Client
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from audit.models import AuditEvent
from tests.conftest import emails_to
from tests.factories import PASSWORD

from .signin_helpers import (
    SECURITY,
    code_from,
    field_error,
    member,
    new_client_signed_in,
    password_step,
    sign_in,
    signed_in,
    tenant_admin,
    text,
    with_authenticator,
    with_backup_codes,
    wrong_code,
)

NEW_PASSWORD = "quiet harbour lantern meadow"
CHANGED = "Security change on your account"


def _change_password(client, new_password, current=PASSWORD, token=None):
    data = {"action": "password", "password-current_password": current, "password-new_password": new_password}
    if token is not None:
        data["password-token"] = token
    return client.post(SECURITY, data)


def _set_recovery(client, alternate_email="", alternate_phone="", current=PASSWORD, token=None):
    data = {
        "action": "recovery",
        "recovery-alternate_email": alternate_email,
        "recovery-alternate_phone": alternate_phone,
        "recovery-current_password": current,
    }
    if token is not None:
        data["recovery-token"] = token
    return client.post(SECURITY, data)


def _events(user, action):
    return AuditEvent.objects.filter(action=action, target_type="accounts.user", target_id=str(user.pk))


def _password_still(user, password):
    user.refresh_from_db()
    return user.check_password(password)


@pytest.fixture
def admin(db):
    """A tenant admin with an authenticator and backup codes, signed in on ``client``."""
    user = tenant_admin(email="gabriel@fabrikam.example", alternate_email="gabriel@home.example")
    user.device = with_authenticator(user)
    user.codes = with_backup_codes(user, *[f"c{n}dekmn7" for n in range(8)])
    return user


# --- password ---------------------------------------------------------------------------------------


def test_changing_the_password_needs_the_current_one(client, db):
    user = member()
    sign_in(client, user)
    response = _change_password(client, NEW_PASSWORD, current="not my password at all")
    assert response.status_code == 200
    assert field_error(response, "id_password-current_password") == "This is not your current password."
    assert _password_still(user, PASSWORD)
    assert not _events(user, "security.password_changed").exists()


def test_a_user_with_an_authenticator_must_give_a_code(client, admin):
    sign_in(client, admin, code=admin.codes[0])
    page = client.get(SECURITY)
    assert 'name="password-token"' in page.content.decode()

    missing = _change_password(client, NEW_PASSWORD)
    assert field_error(missing, "id_password-token") == "This field is required."
    wrong = _change_password(client, NEW_PASSWORD, token=wrong_code(admin.device))
    assert wrong.status_code == 200
    assert field_error(wrong, "id_password-token") == "That code is not right, or it was already used."
    assert _password_still(admin, PASSWORD)


def test_a_password_change_ends_the_other_sessions_and_tells_every_address(client, admin, deliver):
    other = new_client_signed_in(admin, code=admin.codes[0])
    sign_in(client, admin, code=admin.codes[1])

    response = _change_password(client, NEW_PASSWORD, token=code_from(admin.device))
    assert response.status_code == 302 and response["Location"] == SECURITY
    assert "Your password is changed. Your other sessions are signed out." in text(client.get(SECURITY))
    assert signed_in(client), "the session that made the change stays"
    assert not signed_in(other), "the other session is signed out"
    assert _password_still(admin, NEW_PASSWORD)

    [event] = _events(admin, "security.password_changed")
    assert event.actor == admin and event.ip_address == "127.0.0.1"
    deliver()
    for address in ("gabriel@fabrikam.example", "gabriel@home.example"):
        [email] = emails_to(address)
        assert email.subject == CHANGED and "Your password was changed." in email.body

    client.post("/logout/")
    assert password_step(client, admin, PASSWORD).status_code == 200, "the old password no longer works"


def test_the_session_that_changed_the_password_is_still_ended_by_a_later_change(client, db):
    """The change gives this session a new key; a later change elsewhere must still sign it out."""
    user = member()
    sign_in(client, user)
    assert _change_password(client, NEW_PASSWORD).status_code == 302
    assert signed_in(client)

    other = new_client_signed_in(user, password=NEW_PASSWORD)
    _set_recovery(other, alternate_email="someone@home.example", current=NEW_PASSWORD)
    assert signed_in(other)
    assert not signed_in(client)


# --- recovery contacts ------------------------------------------------------------------------------


def test_setting_recovery_contacts_ends_other_sessions_and_tells_old_and_new_addresses(client, db, deliver):
    user = member(email="ana@fabrikam.example", alternate_email="ana.old@home.example")
    other = new_client_signed_in(user)
    sign_in(client, user)

    response = _set_recovery(client, alternate_email="Ana.New@Home.example", alternate_phone="+33 6 12 34 56 78")
    assert response.status_code == 302
    assert "Your recovery contacts are saved." in text(client.get(SECURITY))
    assert signed_in(client) and not signed_in(other)
    user.refresh_from_db()
    assert (user.alternate_email, user.alternate_phone) == ("ana.new@home.example", "+33 6 12 34 56 78")

    [event] = _events(user, "security.recovery_changed")
    assert event.after["before"]["alternate_email"] == "ana.old@home.example"
    assert event.after["after"]["alternate_email"] == "ana.new@home.example"
    deliver()
    for address in ("ana@fabrikam.example", "ana.new@home.example", "ana.old@home.example"):
        [email] = emails_to(address)
        assert email.subject == CHANGED and "Your recovery email or phone was changed." in email.body


def test_recovery_contacts_need_the_password_and_a_code(client, admin):
    sign_in(client, admin, code=admin.codes[0])
    wrong_password = _set_recovery(client, alternate_email="x@home.example", current="nope nope nope", token=admin.codes[1])
    assert field_error(wrong_password, "id_recovery-current_password") == "This is not your current password."
    wrong_code_ = _set_recovery(client, alternate_email="x@home.example", token=wrong_code(admin.device))
    assert field_error(wrong_code_, "id_recovery-token") == "That code is not right, or it was already used."
    admin.refresh_from_db()
    assert admin.alternate_email == "gabriel@home.example"
    assert not _events(admin, "security.recovery_changed").exists()


def test_the_sign_in_email_is_not_a_recovery_address(client, db):
    user = member(email="ana@fabrikam.example")
    sign_in(client, user)
    response = _set_recovery(client, alternate_email="ANA@fabrikam.example")
    assert field_error(response, "id_recovery-alternate_email") == "Use an address other than your sign-in email."
    user.refresh_from_db()
    assert user.alternate_email == ""


# --- backup codes and authenticator -----------------------------------------------------------------


def test_new_backup_codes_replace_the_old_ones(client, admin, deliver):
    sign_in(client, admin, code=admin.codes[0])
    response = client.post(
        SECURITY, {"action": "backup_codes", "backup_codes-current_password": PASSWORD, "backup_codes-token": code_from(admin.device)}
    )
    assert response.status_code == 302 and response["Location"] == "/login/backup-codes/"
    page = client.get("/login/backup-codes/").content.decode()
    new_codes = re.findall(r"<li>([^<]+)</li>", page.split('id="backup-codes"')[1])
    assert len(set(new_codes)) == 10 and not set(new_codes) & set(admin.codes)
    assert 'href="/account/security/"' in page
    assert _events(admin, "security.backup_codes_regenerated").exists()
    deliver()
    assert "New backup codes were made" in emails_to(admin.email)[0].body

    client.post("/logout/")
    assert signed_in(new_client_signed_in(admin, code=new_codes[0])), "a new code works"
    password_step(client, admin)
    assert client.post("/login/verify/", {"token": admin.codes[1]}).status_code == 200, "an old code is refused"
    assert not signed_in(client)


def test_replacing_the_authenticator_needs_a_code_from_the_new_app(client, admin):
    old = admin.device
    sign_in(client, admin, code=admin.codes[0])
    response = client.post(
        SECURITY, {"action": "second_factor", "second_factor-current_password": PASSWORD, "second_factor-token": code_from(old)}
    )
    assert response.status_code == 302 and response["Location"] == "/account/security/authenticator/"

    page = client.get("/account/security/authenticator/")
    new = TOTPDevice.objects.get(user=admin, confirmed=False)
    assert "<svg" in page.content.decode()
    shown = re.search(r'<code id="secret">([^<]+)</code>', page.content.decode()).group(1)
    assert shown.replace(" ", "") == base64.b32encode(new.bin_key).decode()

    refused = client.post("/account/security/authenticator/", {"token": wrong_code(new)})
    assert "That code is not right" in text(refused)
    assert TOTPDevice.objects.filter(pk=old.pk).exists(), "nothing changes before the new app is confirmed"


def test_a_confirmed_new_authenticator_replaces_the_old_one(client, admin, deliver):
    old = admin.device
    old_key = old.bin_key
    other = new_client_signed_in(admin, code=admin.codes[0])
    sign_in(client, admin, code=admin.codes[1])
    client.post(
        SECURITY, {"action": "second_factor", "second_factor-current_password": PASSWORD, "second_factor-token": code_from(old)}
    )
    client.get("/account/security/authenticator/")
    new = TOTPDevice.objects.get(user=admin, confirmed=False)
    response = client.post("/account/security/authenticator/", {"token": code_from(new)})
    assert response.status_code == 302 and response["Location"] == "/login/backup-codes/"
    assert len(re.findall(r"<li>", client.get("/login/backup-codes/").content.decode())) >= 10

    assert list(TOTPDevice.objects.filter(user=admin)) == [new]
    assert signed_in(client) and not signed_in(other)
    assert _events(admin, "security.second_factor_replaced").exists()
    deliver()
    assert "Your authenticator app was replaced." in emails_to(admin.email)[0].body

    client.post("/logout/")
    password_step(client, admin)
    assert old_key != new.bin_key
    old_code = f"{totp(old_key):06d}"  # what the old app shows now
    assert client.post("/login/verify/", {"token": old_code}).status_code == 200, "the old app's codes are refused"
    assert not signed_in(client)


# --- password rules (NIST SP 800-63B rev. 4) ---------------------------------------------------------


def test_password_only_member_needs_15_characters(client, db):
    user = member()
    sign_in(client, user)
    assert "At least 15 characters" in text(client.get(SECURITY))
    short = _change_password(client, "tulip ocean ma")  # 14
    assert "use at least 15 characters" in field_error(short, "id_password-new_password")
    assert _password_still(user, PASSWORD)
    assert _change_password(client, "tulip ocean map").status_code == 302  # 15, lowercase and spaces only
    assert _password_still(user, "tulip ocean map")


def test_a_user_with_a_second_factor_needs_12_characters(client, admin):
    sign_in(client, admin, code=admin.codes[0])
    assert "At least 12 characters" in text(client.get(SECURITY))
    short = _change_password(client, "tulip ocean", token=admin.codes[1])  # 11
    assert "use at least 12 characters" in field_error(short, "id_password-new_password")
    assert _change_password(client, "tulip oceans", token=admin.codes[2]).status_code == 302
    assert _password_still(admin, "tulip oceans")


def test_long_passphrases_are_accepted(client, db):
    user = member()
    sign_in(client, user)
    long_one = "the quick brown fox jumps over the lazy dog while seven bakers sing softly"
    assert len(long_one) > 64
    assert _change_password(client, long_one).status_code == 302
    assert _password_still(user, long_one)


@pytest.mark.parametrize("common", ["passwordpassword", "1qaz2wsx3edc4rfv", "password password"])
def test_common_passwords_are_refused(client, db, common):
    user = member()
    sign_in(client, user)
    response = _change_password(client, common)
    assert response.status_code == 200
    assert "too common" in field_error(response, "id_password-new_password")
    assert _password_still(user, PASSWORD)


# --- recent sign-ins --------------------------------------------------------------------------------


def test_recent_sign_ins_are_listed(client, db):
    user = member()
    password_step(client, user, "a wrong password here")
    sign_in(client, user)
    table = client.get(SECURITY).content.decode().split('id="signins"')[1].split("</table>")[0]
    rows = re.findall(r"<tr>(.*?)</tr>", table, re.S)
    assert len(rows) == 2
    assert "Signed in" in rows[0] and "127.0.0.1" in rows[0]
    assert "Wrong password" in rows[1]
    other_user = member()
    password_step(Client(), other_user, "not theirs either")
    assert len(re.findall(r"<tr>", client.get(SECURITY).content.decode().split('id="signins"')[1])) == 2


def test_a_refused_new_password_does_not_use_up_the_code(client, admin):
    sign_in(client, admin, code=admin.codes[0])
    refused = _change_password(client, "short", token=admin.codes[1])
    assert field_error(refused, "id_password-new_password")
    accepted = _change_password(client, NEW_PASSWORD, token=admin.codes[1])
    assert accepted.status_code == 302
    assert _password_still(admin, NEW_PASSWORD)


def test_guessing_the_current_password_is_rate_limited(client, db, fresh_rate_window):
    user = member()
    fresh_rate_window("10/10m", str(user.pk))  # security.change, per user
    sign_in(client, user)
    for _ in range(10):
        _change_password(client, NEW_PASSWORD, current="a wrong guess again")
    response = _change_password(client, NEW_PASSWORD)
    assert response.status_code == 302
    assert "Too many attempts" in client.get(SECURITY).content.decode()
    assert _password_still(user, PASSWORD)
