"""Sign-in under attack: a stranger's wrong passwords slow the stranger, never lock the owner out, and no
answer of /login/ (its words or its time) tells a missing account from an existing one."""

import time

import pytest
from django.contrib.auth.hashers import MD5PasswordHasher
from django.core import mail
from django.test import Client
from django.utils import timezone

from accounts.models import User
from accounts.services import signin as signin_services
from audit.models import AuditEvent
from tests.conftest import emails_to
from tests.factories import PASSWORD

from .signin_helpers import code_from, form_errors, member, tenant_admin, with_authenticator
from .timing import assert_same_time

GENERIC = (
    "The email or password is not right. After several failed attempts, each new try from your network "
    "has to wait longer: check them, and try again later if this keeps happening."
)
OWNER_NETWORK = "192.0.2.10"


def attempt(email, password, ip, client=None):
    return (client or Client()).post("/login/", {"email": email, "password": password}, REMOTE_ADDR=ip)


def throttle_key(email, ip):
    return f"{email}|{ip}|"


@pytest.fixture
def no_padding(monkeypatch):
    """The refusal's padding is timed by the timing tests below; the others need not wait for it."""
    monkeypatch.setattr(signin_services, "REFUSAL_TIME", 0)


# --- the throttle: per account and network, a growing delay ----------------------------------------


def test_five_wrong_passwords_slow_only_that_network(db, no_padding, fresh_rate_window):
    user = member(email="ana@fabrikam.example")
    stranger = "203.0.113.7"
    fresh_rate_window("5/5m", throttle_key(user.email, stranger))
    for n in range(5):
        assert form_errors(attempt(user.email, f"guess number {n}", stranger)) == GENERIC
    refused = attempt(user.email, PASSWORD, stranger)
    assert refused.status_code == 200 and form_errors(refused) == GENERIC, "the stranger's network must wait, even with the password"

    owner = attempt(user.email, PASSWORD, OWNER_NETWORK)
    assert owner.status_code == 302, "the owner, on another network, is not slowed by the stranger"


def test_the_delay_grows_from_minutes_to_the_hour(db, no_padding, fresh_rate_window):
    user = member(email="ana@fabrikam.example")
    network = "203.0.113.8"
    key = throttle_key(user.email, network)
    fresh_rate_window("10/h", key)  # the hour starts
    for _round in range(2):
        fresh_rate_window("5/5m", key)  # a new 5-minute window, within the hour
        for n in range(5):
            attempt(user.email, f"guess {n}", network)
        assert form_errors(attempt(user.email, PASSWORD, network)) == GENERIC, "5 in 5 minutes: wait"
    fresh_rate_window("5/5m", key)
    assert form_errors(attempt(user.email, PASSWORD, network)) == GENERIC, "10 in the hour: a new 5-minute window is not enough"
    fresh_rate_window("10/h", key)
    assert attempt(user.email, PASSWORD, network).status_code == 302, "the hour is over"


# --- the ceiling: 100 in a row close new networks, never the owner's ---------------------------------


def _hundred_wrong_passwords_from_everywhere(email):
    for n in range(100):
        network = f"198.51.{n // 4}.{n % 4 + 1}"  # 4 tries per address: under every throttle
        assert form_errors(attempt(email, f"guess number {n}", network)) == GENERIC


def test_a_hundred_wrong_passwords_in_a_row_close_new_networks_but_not_the_owners(db, no_padding, deliver):
    admin = tenant_admin(email="gabriel@contoso.example", alternate_email="gabriel@mail.example")
    device = with_authenticator(admin)
    owner = Client(REMOTE_ADDR=OWNER_NETWORK)
    attempt(admin.email, PASSWORD, OWNER_NETWORK, owner)
    assert owner.post("/login/verify/", {"token": code_from(device)}).status_code == 302
    owner.post("/logout/")

    _hundred_wrong_passwords_from_everywhere(admin.email)
    admin.refresh_from_db()
    assert admin.failed_login_count == 100
    assert AuditEvent.objects.filter(action="account.locked", target_id=str(admin.pk)).count() == 1
    deliver()
    for address in ("gabriel@contoso.example", "gabriel@mail.example"):
        [told] = emails_to(address)
        assert told.subject == "Sign-in to your account is refused from new networks"
        assert "100 times in a row" in told.body

    refused = attempt(admin.email, PASSWORD, "203.0.113.50")
    assert form_errors(refused) == GENERIC, "a new network is refused, even with the password"

    # The owner, from their usual network (another address in it), with the password and the second factor.
    owner = Client(REMOTE_ADDR="192.0.2.77")
    assert attempt(admin.email, PASSWORD, "192.0.2.77", owner)["Location"] == "/login/verify/"
    assert owner.post("/login/verify/", {"token": code_from(device)}).status_code == 302
    admin.refresh_from_db()
    assert admin.failed_login_count == 0, "the owner's sign-in ends the run of failures"
    assert attempt(admin.email, PASSWORD, "203.0.113.51")["Location"] == "/login/verify/"
    mail.outbox.clear()
    deliver()
    assert not [m for m in mail.outbox if "new networks" in m.subject], "told once"


def test_ninety_nine_do_not_close_anything(db, no_padding):
    user = member()
    for n in range(99):
        attempt(user.email, f"guess number {n}", f"198.51.{n // 4}.{n % 4 + 1}")
    assert attempt(user.email, PASSWORD, "203.0.113.60").status_code == 302


def test_an_admin_unlocks_the_account_and_lifts_the_throttle(db, no_padding, fresh_rate_window):
    from accounts.services.console import console_unfreeze
    from audit.services import Actor, ActorKind

    user = member(email="ana@fabrikam.example")
    admin = tenant_admin()
    tenant = admin.memberships.get().tenant
    user.memberships.update(tenant=tenant)
    User.objects.filter(pk=user.pk).update(failed_login_count=100)
    network = "203.0.113.9"
    fresh_rate_window("5/5m", throttle_key(user.email, network))
    for n in range(5):
        attempt(user.email, f"guess {n}", network)
    assert form_errors(attempt(user.email, PASSWORD, network)) == GENERIC

    console_unfreeze(actor=Actor(kind=ActorKind.USER, user=admin), tenant=tenant, user=user)
    assert attempt(user.email, PASSWORD, network).status_code == 302, "ceiling and throttle lifted"


# --- one answer, the same work, for every account ----------------------------------------------------


class CountingHasher(MD5PasswordHasher):
    """The test settings' hasher, counting how often it hashes."""

    calls = 0

    def encode(self, password, salt):
        CountingHasher.calls += 1
        return super().encode(password, salt)


def _states():
    """One account in each state /login/ refuses, and the missing one; each with its own network."""
    active = member(email="wrong@fabrikam.example")
    inactive = member(email="inactive@fabrikam.example", is_active=False)
    frozen = member(email="frozen@fabrikam.example", frozen_at=timezone.now())
    no_password = member(email="invited@fabrikam.example")
    no_password.set_unusable_password()
    no_password.save()
    capped = member(email="capped@fabrikam.example", failed_login_count=100)
    throttled = member(email="throttled@fabrikam.example")
    return {
        "missing": ("nobody@fabrikam.example", "a wrong password"),
        "wrong password": (active.email, "a wrong password"),
        "inactive, right password": (inactive.email, PASSWORD),
        "frozen, right password": (frozen.email, PASSWORD),
        "no password": (no_password.email, PASSWORD),
        "at the ceiling, right password": (capped.email, PASSWORD),
        "throttled, right password": (throttled.email, PASSWORD),
    }


def test_every_refusal_hashes_once_and_says_the_same(db, settings, no_padding, monkeypatch):
    settings.PASSWORD_HASHERS = [f"{__name__}.CountingHasher"]
    monkeypatch.setattr(signin_services, "THROTTLE", ("5/d",))
    states = _states()
    for n in range(5):
        attempt(states["throttled, right password"][0], f"guess {n}", "203.0.113.70")
    pages = {}
    for n, (state, (email, password)) in enumerate(states.items()):
        network = "203.0.113.70" if state.startswith("throttled") else f"203.0.113.{n + 1}"
        CountingHasher.calls = 0
        response = attempt(email, password, network)
        assert CountingHasher.calls == 1, f"{state}: the hasher ran {CountingHasher.calls} times"
        assert response.status_code == 200 and form_errors(response) == GENERIC, state
        pages[state] = response.content.decode().replace(email, "EMAIL").split('name="csrfmiddlewaretoken"')[0]
    assert len(set(pages.values())) == 1, "every refusal shows the same page"
    CountingHasher.calls = 0
    assert attempt(states["wrong password"][0], PASSWORD, "203.0.113.99").status_code == 302
    assert CountingHasher.calls == 1


def test_a_locked_account_answers_in_the_time_a_missing_one_does(db, settings):
    """The attack of the issue: on a locked account the 11th try answered in 58 ms, a missing one in 600 ms."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.PBKDF2PasswordHasher"]  # Django's default: real cost
    capped = member(email="capped@fabrikam.example", failed_login_count=100)
    capped.set_password(PASSWORD)
    capped.save()
    differences = []
    for n in range(50):
        pair = {"locked": capped.email, "missing": f"nobody{n}@fabrikam.example"}
        took = {}
        for state in ("locked", "missing") if n % 2 else ("missing", "locked"):  # neither goes first every time
            started = time.perf_counter()
            response = attempt(pair[state], "a wrong password", f"203.0.{n}.{1 if state == 'locked' else 2}")
            took[state] = time.perf_counter() - started
            assert form_errors(response) == GENERIC
        differences.append(took["locked"] - took["missing"])
    assert_same_time(differences, "a locked account answers later than a missing one")


# --- the right password, then a wrong code: the owner hears, once a day ------------------------------


def test_a_wrong_code_after_the_right_password_tells_the_owner_once_a_day(db, deliver):
    from datetime import timedelta

    from portal.clock import travel

    from .signin_helpers import wrong_code

    user = member(email="ana@fabrikam.example", alternate_email="ana.home@mail.example")
    device = with_authenticator(user)
    intruder = Client(REMOTE_ADDR="203.0.113.80")
    assert attempt(user.email, PASSWORD, "203.0.113.80", intruder)["Location"] == "/login/verify/"
    for _ in range(3):
        assert intruder.post("/login/verify/", {"token": wrong_code(device)}).status_code == 200
    assert AuditEvent.objects.filter(action="signin.second_factor_failed", target_id=str(user.pk)).count() == 3
    deliver()
    for address in ("ana@fabrikam.example", "ana.home@mail.example"):
        [told] = emails_to(address)
        assert told.subject == "Someone may know your password"
        assert "203.0.113.80" in told.body and "/account/security/" in told.body and "Change it now" in told.body

    for hours, emails in ((23, 1), (25, 2)):
        with travel(timedelta(hours=hours)):
            again = Client(REMOTE_ADDR="203.0.113.80")
            assert attempt(user.email, PASSWORD, "203.0.113.80", again)["Location"] == "/login/verify/"
            again.post("/login/verify/", {"token": wrong_code(device)})
            deliver()
            assert len(emails_to("ana@fabrikam.example")) == emails, f"after {hours} hours: at most one a day"
    assert AuditEvent.objects.filter(action="signin.second_factor_failed", target_id=str(user.pk)).count() == 5
