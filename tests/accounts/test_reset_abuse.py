"""Self-service reset under attack: a stranger's wrong codes never block the owner, a double click is not a
wrong code, and the code page takes the same time for a missing and an existing account."""

import threading
import time
from datetime import timedelta

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client

from accounts.models import Membership, PasswordResetSession, User
from accounts.services.reset import reset_start
from audit.models import AuditEvent
from audit.services import RequestMeta
from portal.clock import travel

from . import test_reset as reset_steps
from .test_reset import (
    ALICE,
    ALICE_HOME,
    NEW,
    NEW_PASSWORD,
    VERIFY,
    begin,
    codes_to,
    enter_code,
    latest_code,
    other_than,
    reset_all_the_way,
    set_password,
    text,
)
from .timing import assert_same_time

tenant, alice = reset_steps.tenant, reset_steps.alice  # the same company and person as the reset's own tests

pytestmark = pytest.mark.django_db
STRANGER = "203.0.113.66"
OWNER = "192.0.2.10"


def test_ten_wrong_codes_from_one_network_stop_that_network_not_the_owners(alice, deliver, fresh_rate_window):
    fresh_rate_window("10/d", f"{ALICE}|{STRANGER}")
    for _session in range(2):
        stranger = Client(REMOTE_ADDR=STRANGER)
        begin(stranger, ALICE)
        for n in range(5):
            enter_code(stranger, f"{n:06d}")
    third = Client(REMOTE_ADDR=STRANGER)
    begin(third, ALICE)
    refused = enter_code(third, latest_code(deliver))
    assert refused.status_code == 200 and "The code is not right" in text(refused), "that network: even the right code"

    reset_all_the_way(Client(REMOTE_ADDR=OWNER), deliver)
    alice.refresh_from_db()
    assert alice.check_password(NEW)
    assert not AuditEvent.objects.filter(action="password.reset_blocked").exists()


def test_the_hundredth_wrong_code_in_a_row_blocks_the_accounts_reset_for_a_day(alice, deliver):
    User.objects.filter(pk=alice.pk).update(reset_failed_codes=99)  # 99 from many sessions and networks
    stranger = Client(REMOTE_ADDR=STRANGER)
    begin(stranger, ALICE)
    enter_code(stranger, other_than(latest_code(deliver)))
    assert AuditEvent.objects.filter(action="password.reset_blocked", target_id=str(alice.pk)).count() == 1

    owner = Client(REMOTE_ADDR=OWNER)
    begin(owner, ALICE)
    deliver()
    assert len(codes_to(ALICE_HOME)) == 1, "blocked: no code for anyone"
    with travel(timedelta(hours=24, minutes=1)):
        reset_all_the_way(Client(REMOTE_ADDR=OWNER), deliver)


def test_a_right_code_after_wrong_ones_resets_the_accounts_run(alice, deliver):
    User.objects.filter(pk=alice.pk).update(reset_failed_codes=42)
    client = Client()
    begin(client, ALICE)
    assert enter_code(client, latest_code(deliver))["Location"] == NEW_PASSWORD
    alice.refresh_from_db()
    assert alice.reset_failed_codes == 0


@pytest.mark.django_db(transaction=True)
def test_twenty_simultaneous_right_codes_verify_once_and_count_no_wrong_code(alice, deliver):
    """A double click, twenty times over: before, 1 success, 19 wrong-code strikes and a 24-hour block."""
    client = Client()
    begin(client, ALICE)
    code = latest_code(deliver)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    start = threading.Barrier(20)
    answers = []

    def click():
        browser = Client()
        browser.cookies[settings.SESSION_COOKIE_NAME] = cookie
        start.wait()
        try:
            answers.append(enter_code(browser, code))
        finally:
            connection.close()

    clicks = [threading.Thread(target=click) for _ in range(20)]
    for thread in clicks:
        thread.start()
    for thread in clicks:
        thread.join()

    assert [a.get("Location") for a in answers] == [NEW_PASSWORD] * 20, [a.status_code for a in answers]
    session = PasswordResetSession.objects.get(user=alice)
    assert session.wrong_codes == 0 and session.verified_at is not None
    alice.refresh_from_db()
    assert alice.reset_failed_codes == 0 and alice.reset_blocked_until is None
    assert not AuditEvent.objects.filter(action="password.reset_blocked").exists()
    assert "Your password is reset" in text(set_password(client))


def test_the_code_page_takes_the_same_time_for_a_missing_and_an_existing_account(tenant, deliver):
    """Before: the first visit (a code emailed) and a wrong code took 8 and 5 ms longer for an existing account."""
    for n in range(50):  # one account per try, as an enumerator meets them: each is emailed a code, each wrong code counts
        reset_steps.member(tenant, f"alice{n}@contoso.example", alternate_email=f"alice{n}.home@mail.example")
    differences = {"code sent": [], "wrong code": []}
    for n in range(50):
        pair = {"existing": f"alice{n}@contoso.example", "missing": f"ghost{n}@contoso.example"}
        took = {}
        for kind in ("existing", "missing") if n % 2 else ("missing", "existing"):  # neither goes first every time
            network = f"198.51.{n}.{1 if kind == 'existing' else 2}"
            _session, raw = reset_start(email=pair[kind], meta=RequestMeta(ip_address=network))  # past the CAPTCHA
            browser = Client(REMOTE_ADDR=network)
            store = browser.session
            store["reset_token"] = raw
            store.save()
            steps = (("code sent", lambda b=browser: b.get(VERIFY)), ("wrong code", lambda b=browser: enter_code(b, "000000")))
            for step, request in steps:
                started = time.perf_counter()
                response = request()
                took[kind, step] = time.perf_counter() - started
                assert response.status_code == 200
        for step, series in differences.items():
            series.append(took["existing", step] - took["missing", step])
    for step, series in differences.items():
        assert_same_time(series, f"{step}: an existing account answers later than a missing one")
    deliver()
    assert codes_to("alice49.home@mail.example"), "the existing accounts did get their codes"


# --- who may freeze whom ----------------------------------------------------------------------------


def _freeze_links(deliver, address):
    deliver()
    told = [m for m in reset_steps.emails_to(address) if "/password-reset/not-me/" in m.body]
    return [reset_steps.path_of(reset_steps.link_in(m, "/password-reset/not-me/")) for m in told]


def _follow(link):
    return Client().post(link, {"token": link.split("token=", 1)[1]})


@pytest.fixture
def sole_global_admin(tenant):
    """The tenant's only global admin, who can reset by self-service (email and authenticator codes)."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    admin = reset_steps.member(tenant, "gabriel@contoso.example", Membership.Role.GLOBAL_ADMIN, alternate_email="gabriel@mail.example")
    user_admin = reset_steps.member(tenant, "ursula@contoso.example", Membership.Role.USER_ADMIN)
    return admin, user_admin, TOTPDevice.objects.create(user=admin, name="phone", confirmed=True)


def test_a_user_admin_gets_no_link_to_freeze_the_only_global_admin(sole_global_admin, deliver):
    admin, user_admin, device = sole_global_admin
    reset_all_the_way(Client(), deliver, admin.email, "gabriel@mail.example", reset_steps.authenticator_code(device))
    assert _freeze_links(deliver, user_admin.email) == []
    assert _freeze_links(deliver, admin.email), "the owner has a link"


def test_another_admins_link_on_the_only_global_admin_alerts_support_instead(sole_global_admin, tenant, alice, deliver):
    from tests import factories

    supervisor = factories.supervisor(email="supervisor@support.example")
    admin, _user_admin, device = sole_global_admin
    second = reset_steps.member(tenant, "gloria@contoso.example", Membership.Role.GLOBAL_ADMIN)
    reset_all_the_way(Client(), deliver, admin.email, "gabriel@mail.example", reset_steps.authenticator_code(device))
    [link] = _freeze_links(deliver, second.email)
    User.objects.filter(pk=second.pk).update(is_active=False)  # the other global admin left meanwhile

    page = _follow(link)
    assert "Support has been alerted" in text(page)
    admin.refresh_from_db()
    assert admin.frozen_at is None, "not frozen: nobody would be left to unfreeze them"
    event = AuditEvent.objects.get(action="account.freeze_sent_to_support", target_id=str(admin.pk))
    assert event.after == {"by": second.email} and event.tenant == tenant
    deliver()
    [alert] = reset_steps.emails_to(supervisor.email)
    assert alert.subject == f"Freeze asked for the only global admin of Contoso Conseil SARL: {admin.email}"
    assert "Call the organisation back" in alert.body
    assert "Link not valid" in text(_follow(link)), "single use"


def test_another_admins_link_freezes_a_global_admin_while_another_remains(sole_global_admin, tenant, deliver):
    admin, _user_admin, device = sole_global_admin
    second = reset_steps.member(tenant, "gloria@contoso.example", Membership.Role.GLOBAL_ADMIN)
    reset_all_the_way(Client(), deliver, admin.email, "gabriel@mail.example", reset_steps.authenticator_code(device))
    [link] = _freeze_links(deliver, second.email)
    assert "Your account is frozen" in text(_follow(link))
    admin.refresh_from_db()
    assert admin.frozen_at is not None
    assert AuditEvent.objects.get(action="account.frozen", target_id=str(admin.pk)).after == {"by": second.email}


def test_the_only_global_admin_may_freeze_their_own_account(sole_global_admin, deliver):
    admin, _user_admin, device = sole_global_admin
    reset_all_the_way(Client(), deliver, admin.email, "gabriel@mail.example", reset_steps.authenticator_code(device))
    [link] = _freeze_links(deliver, "gabriel@mail.example")
    assert "Your account is frozen" in text(_follow(link))
    admin.refresh_from_db()
    assert admin.frozen_at is not None
