"""Self-service password reset, step by step as the seed page describes.

/password-reset/ → work or school account → user ID + CAPTCHA → emailed code (and authenticator
code) → new password. Every step goes through the test client; codes and links come from the emails.
"""

import html as html_lib
import io
import re
import wave
from datetime import timedelta

import pytest
from captcha.models import CaptchaStore
from django.core import mail
from django.test import Client
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import Membership
from audit.models import AuditEvent
from portal.clock import travel
from tests import factories
from tests.conftest import emails_to, link_in
from tests.helpers import captcha_answer

pytestmark = pytest.mark.django_db

START = "/password-reset/"
USER_ID = "/password-reset/work/"
VERIFY = "/password-reset/verify/"
NEW_PASSWORD = "/password-reset/new-password/"
NEW = "lantern orchard violet harbour"  # 30 characters, not common, unlike any address below

ALICE = "alice@contoso.example"
ALICE_HOME = "alice.home@mail.example"
GHOST = "ghost@contoso.example"  # same domain, no account
GLOBAL_ADMIN = "gabriel@contoso.example"
USER_ADMIN = "ursula@contoso.example"
COLLEAGUE = "colin@contoso.example"
SERVICE_REQUEST = "/requests/new/admin_left/"  # reverse("tickets:new", args=["admin_left"]), checked below
FABRIKAM = "fabrikam.example"
NOWHERE = "someone@nowhere.example"  # a domain that belongs to no organisation

CODE_SUBJECT = "Your password reset code"


# --- people and companies ----------------------------------------------------------------------


def member(tenant, email, role=Membership.Role.MEMBER, **kwargs):
    user = factories.UserFactory(email=email, **kwargs)
    factories.MembershipFactory(user=user, tenant=tenant, role=role)
    return user


@pytest.fixture
def tenant(db):
    return factories.TenantFactory(
        legal_name="Contoso Conseil SARL", primary_domain="contoso.example", self_service_reset_enabled=True
    )


@pytest.fixture
def alice(tenant):
    return member(tenant, ALICE, alternate_email=ALICE_HOME, full_name="Alice Martin")


@pytest.fixture
def admins(tenant):
    """A global admin, a user admin, and a plain colleague who is no admin."""
    return (
        member(tenant, GLOBAL_ADMIN, Membership.Role.GLOBAL_ADMIN, alternate_email="gabriel@mail.example"),
        member(tenant, USER_ADMIN, Membership.Role.USER_ADMIN),
        member(tenant, COLLEAGUE),
    )


@pytest.fixture
def fabrikam(db):
    """Self-service off, and no active global admin: theirs has left (deactivated). A user admin remains."""
    company = factories.TenantFactory(legal_name="Fabrikam Holdings SA", primary_domain=FABRIKAM, self_service_reset_enabled=False)
    member(company, f"former@{FABRIKAM}", Membership.Role.GLOBAL_ADMIN, is_active=False)
    member(company, f"uma@{FABRIKAM}", Membership.Role.USER_ADMIN)
    member(company, f"bob@{FABRIKAM}", alternate_email="bob.home@mail.example")
    return company


# --- acting as the person ----------------------------------------------------------------------


def path_of(url: str) -> str:
    return re.sub(r"^https?://[^/]+", "", url)


def choose_work_account(client):
    page = client.get(START)
    assert page.status_code == 200 and "Can't access your account?" in page.content.decode()
    response = client.post(START, {"account_type": "work"})
    assert response.status_code == 302 and response["Location"] == USER_ID
    return response


def submit_user_id(client, email, answer=None, **extra):
    """GET the user-ID page, read its CAPTCHA as a person would, POST. Returns the POST response."""
    page = client.get(USER_ID)
    data = {"email": email, **captcha_answer(page.content.decode())}
    if answer is not None:
        data["captcha_1"] = answer
    return client.post(USER_ID, data, **extra)


def begin(client, email):
    """Steps 1 to 3; returns the verify page (which sends the first code)."""
    choose_work_account(client)
    response = submit_user_id(client, email)
    assert response.status_code == 302 and response["Location"] == VERIFY, response.content.decode()[:2000]
    page = client.get(VERIFY)
    assert page.status_code == 200
    return page


def codes_to(address):
    """The codes emailed to ``address``, oldest first."""
    return [re.search(r"^\s*(\d{6})\s*$", m.body, re.M).group(1) for m in emails_to(address) if m.subject == CODE_SUBJECT]


def latest_code(deliver, address=ALICE_HOME):
    deliver()
    codes = codes_to(address)
    assert codes, f"no code emailed to {address}"
    return codes[-1]


def other_than(code):
    return code[:-1] + str((int(code[-1]) + 1) % 10)


def enter_code(client, code, token=""):
    return client.post(VERIFY, {"action": "verify", "code": code, "token": token})


def resend(client):
    return client.post(VERIFY, {"action": "resend"})


def set_password(client, password=NEW):
    return client.post(NEW_PASSWORD, {"new_password1": password, "new_password2": password})


def authenticator_code(device):
    return f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift):0{device.digits}d}"


def sign_in(client, email, password):
    return client.post("/login/", {"email": email, "password": password})


def is_signed_in(client):
    return "_auth_user_id" in client.session


def text(response):
    return response.content.decode()


def shape(response, *emails):
    """The page without what changes on every response: CSRF tokens, CAPTCHA keys, the typed user ID."""
    body = re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", text(response))
    body = re.sub(r"[0-9a-f]{40}", "KEY", body)
    for email in emails:
        body = body.replace(email, "EMAIL")
    return body


def switch_off(tenant_):
    tenant_.self_service_reset_enabled = False
    tenant_.save()


def without_csrf(response):
    """The body byte for byte, but for the CSRF token, which is new on every response."""
    return re.sub(rb'(name="csrfmiddlewaretoken" value=")[^"]*(")', rb"\1CSRF\2", response.content)


def hrefs(response):
    return [html_lib.unescape(h) for h in re.findall(r'href="([^"]*)"', text(response))]


def templates(response):
    return [t.name for t in response.templates]


def reset_all_the_way(client, deliver, email=ALICE, address=ALICE_HOME, token=""):
    begin(client, email)
    response = enter_code(client, latest_code(deliver, address), token)
    assert response.status_code == 302 and response["Location"] == NEW_PASSWORD, text(response)[:3000]
    done = set_password(client)
    assert done.status_code == 200 and "Your password is reset" in text(done), text(done)[:3000]
    return done


# --- step 1: which type of account -------------------------------------------------------------


def test_the_sign_in_page_leads_to_the_reset(client, db):
    assert 'href="/password-reset/"' in text(client.get("/login/"))


def test_a_personal_account_is_told_where_to_go_instead(client, db):
    response = client.post(START, {"account_type": "personal"})
    assert response.status_code == 200
    assert templates(response)[0] == "accounts/reset/personal.html"
    body = text(response)
    assert "This portal manages work and school accounts only" in body
    assert "use the password recovery of that service" in body
    assert "captcha" not in body.lower(), "no user-ID step for personal accounts"


def test_choosing_no_account_type_asks_again(db):
    browser = Client(enforce_csrf_checks=True)
    page = browser.get(START)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', text(page)).group(1)
    response = browser.post(START, {"csrfmiddlewaretoken": token})  # no radio button chosen
    assert response.status_code == 200
    assert "This field is required" in text(response)


# --- the organisation's switch -----------------------------------------------------------------


def test_switch_on_a_code_goes_to_the_alternate_email_and_sets_the_new_password(client, alice, deliver):
    page = begin(client, ALICE)
    assert "we sent a code to its alternate email" in text(page)
    deliver()
    [message] = mail.outbox
    assert message.to == [ALICE_HOME], "the code goes to the alternate email only, never the work address"
    assert message.subject == CODE_SUBJECT
    assert "It works once, for 5 minutes." in message.body
    code = codes_to(ALICE_HOME)[0]
    assert re.fullmatch(r"\d{6}", code)

    response = enter_code(client, code)
    assert response.status_code == 302 and response["Location"] == NEW_PASSWORD
    done = set_password(client)
    assert "Your password is reset" in text(done)
    assert "Sign in with your new password" in text(done)

    alice.refresh_from_db()
    assert alice.check_password(NEW) and not alice.check_password(factories.PASSWORD)
    assert sign_in(Client(), ALICE, NEW).status_code == 302
    assert sign_in(Client(), ALICE, factories.PASSWORD).status_code == 200, "the old password no longer works"


def test_switch_off_the_page_sends_to_the_admin_who_is_told(client, tenant, alice, admins, deliver):
    switch_off(tenant)
    page = begin(client, ALICE)
    body = text(page)
    assert templates(page)[0] == "accounts/reset/policy_off.html"
    assert "Your administrator must reset your password" in body
    assert "An administrator of your organisation can reset your password: ask them." in body
    assert "Contoso Conseil SARL" not in body
    assert client.get(VERIFY).status_code == 200  # seen twice: the admins hear it once

    deliver()
    assert not emails_to(ALICE_HOME), "no code when self-service is off"
    for admin in (GLOBAL_ADMIN, USER_ADMIN):
        [told] = emails_to(admin)
        assert told.subject == f"{ALICE} asked to reset their password"
        assert "Self-service reset is off for Contoso Conseil SARL" in told.body
        assert "/console/" in told.body
    assert not emails_to(COLLEAGUE) and not emails_to(ALICE)

    # A missing account on the same domain: the same page, and nobody is told.
    mail.outbox.clear()
    other = Client()
    ghost_page = begin(other, GHOST)
    assert ghost_page.status_code == page.status_code
    assert templates(ghost_page) == templates(page)
    assert without_csrf(ghost_page) == without_csrf(page)
    deliver()
    assert mail.outbox == []

    # The password did not change and no code can be entered.
    assert enter_code(client, "123456").status_code == 200
    assert client.get(NEW_PASSWORD)["Location"] == USER_ID
    alice.refresh_from_db()
    assert alice.check_password(factories.PASSWORD)


def test_the_switch_off_page_is_the_same_for_every_organisation_and_for_none(tenant, alice, admins, fabrikam, deliver):
    assert reverse("tickets:new", args=["admin_left"]) == SERVICE_REQUEST
    switch_off(tenant)
    # A real account on a domain of no organisation: it must not get a code, nor tell anyone.
    member(tenant, NOWHERE, alternate_email="someone.home@mail.example")

    pages = {
        "with a global admin": begin(Client(), ALICE),
        "without a global admin": begin(Client(), f"bob@{FABRIKAM}"),
        "no organisation": begin(Client(), NOWHERE),
    }
    first = pages["with a global admin"]
    for case, page in pages.items():
        assert page.status_code == 200, case
        assert templates(page)[0] == "accounts/reset/policy_off.html", case
        assert without_csrf(page) == without_csrf(first), f"{case}: the page differs"

    body = text(first)
    assert "Your administrator must reset your password" in body
    assert "If your organisation has no administrator who can reset passwords" in body
    assert SERVICE_REQUEST in hrefs(first), "a plain link to the service-request form, nothing added to it"
    assert not [h for h in hrefs(first) if "?" in h or "company" in h], hrefs(first)
    for secret in (
        "Contoso Conseil SARL",
        "Fabrikam Holdings SA",
        "contoso",
        "fabrikam",
        "nowhere",
        "no active global admin",
        "no global admin",
        "has not turned on",
    ):
        assert secret.lower() not in body.lower(), secret

    # The form the link leads to knows nothing of the company either.
    form = Client().get(SERVICE_REQUEST)
    assert form.status_code == 200
    assert not [v for v in form.context["form"].initial.values() if v]
    assert "Fabrikam" not in text(form) and "Contoso" not in text(form)

    deliver()
    assert [m.subject for m in emails_to(GLOBAL_ADMIN)] == [f"{ALICE} asked to reset their password"]
    assert [m.subject for m in emails_to(USER_ADMIN)] == [f"{ALICE} asked to reset their password"]
    assert [m.subject for m in emails_to(f"uma@{FABRIKAM}")] == [f"bob@{FABRIKAM} asked to reset their password"]
    assert not emails_to(f"former@{FABRIKAM}"), "a deactivated admin is not told"
    told = {address for m in mail.outbox for address in m.to}
    assert told == {GLOBAL_ADMIN, USER_ADMIN, f"uma@{FABRIKAM}"}, "no code, and nobody told for the unknown domain"


def test_a_domain_of_no_organisation_tells_nobody(client, tenant, deliver):
    someone = member(tenant, NOWHERE, alternate_email="someone.home@mail.example")
    page = begin(client, NOWHERE)
    assert templates(page)[0] == "accounts/reset/policy_off.html"
    assert resend(client).status_code == 200
    deliver()
    assert mail.outbox == [], "no code and no admin email: the domain has no organisation whose policy applies"
    assert not AuditEvent.objects.filter(action="password.reset_requested", target_id=str(someone.pk)).exists()


def test_the_switch_off_page_in_french_is_the_same_for_everyone(tenant, alice, admins, fabrikam):
    switch_off(tenant)
    pages = []
    for email in (ALICE, f"bob@{FABRIKAM}", NOWHERE):
        browser = Client(HTTP_ACCEPT_LANGUAGE="fr")
        assert browser.post(START, {"account_type": "work"})["Location"] == USER_ID
        assert submit_user_id(browser, email)["Location"] == VERIFY
        pages.append(browser.get(VERIFY))
    assert without_csrf(pages[0]) == without_csrf(pages[1]) == without_csrf(pages[2])
    body = text(pages[0])
    assert '<html lang="fr">' in body
    assert "Votre administrateur doit réinitialiser votre mot de passe" in body
    assert "Un administrateur de votre organisation peut réinitialiser votre mot de passe" in body
    assert "Aucun administrateur pour le réinitialiser" in body
    assert "déposez une demande de service" in body
    assert "Déposer une demande de service" in body and SERVICE_REQUEST in hrefs(pages[0])
    assert "Contoso" not in body and "Fabrikam" not in body


# --- the CAPTCHA -------------------------------------------------------------------------------


def test_the_image_captcha_right_answer_passes_and_a_wrong_one_is_refused(client, alice):
    page = client.get(USER_ID)
    key = captcha_answer(text(page))["captcha_0"]
    image = client.get(re.search(r'<img src="([^"]+)"', text(page)).group(1))
    assert image.status_code == 200 and image["Content-Type"] == "image/png"

    wrong = client.post(USER_ID, {"email": ALICE, "captcha_0": key, "captcha_1": "nope"})
    assert wrong.status_code == 200
    assert "Invalid CAPTCHA" in text(wrong)
    assert "reset_token" not in client.session

    right = submit_user_id(client, ALICE)
    assert right.status_code == 302 and right["Location"] == VERIFY


def test_a_captcha_answer_works_once(client, alice):
    page = client.get(USER_ID)
    data = {"email": ALICE, **captcha_answer(text(page))}
    assert client.post(USER_ID, data).status_code == 302
    again = Client().post(USER_ID, data)
    assert again.status_code == 200 and "Invalid CAPTCHA" in text(again)


def audio_of(client, page):
    url = re.search(r'<audio [^>]*src="(/password-reset/captcha/[0-9a-f]{40}\.wav)"', text(page)).group(1)
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "audio/wav"
    with wave.open(io.BytesIO(response.content), "rb") as w:
        assert (w.getnchannels(), w.getframerate(), w.getsampwidth()) == (1, 8000, 2)
        frames = w.getnframes()
    return response.content, frames


def test_the_audio_captcha_is_a_wav_and_what_is_heard_passes(client, alice):
    page = client.get(USER_ID)
    audio, frames = audio_of(client, page)
    assert 2 <= frames / 8000 <= 20, "a few seconds"
    key = captcha_answer(text(page))["captcha_0"]
    heard = CaptchaStore.objects.get(hashkey=key).challenge  # what the voice reads, in capitals
    response = client.post(USER_ID, {"email": ALICE, "captcha_0": key, "captcha_1": heard})
    assert response.status_code == 302 and response["Location"] == VERIFY


def test_the_audio_lasts_longer_for_more_characters(client, db, settings):
    settings.CAPTCHA_LENGTH = 3
    _, short = audio_of(client, client.get(USER_ID))
    settings.CAPTCHA_LENGTH = 9
    _, long = audio_of(client, client.get(USER_ID))
    assert long - short > 6 * 0.7 * 8000 * 0.9, "each character adds its clip and a pause"


def test_an_unknown_audio_key_is_404(client, db):
    assert client.get("/password-reset/captcha/" + "0" * 40 + ".wav").status_code == 404
    assert client.get("/password-reset/captcha/nope.wav").status_code == 404


def clip_frames(language, text_):
    from portal.captcha.audio import CLIPS

    total = 0
    for char in text_.upper():
        with wave.open(str(CLIPS / language / f"{char}.wav"), "rb") as w:
            total += w.getnframes()
    return total


def test_the_french_page_reads_the_characters_in_french(db):
    from portal.captcha.audio import LEAD, PAUSE, TEMPO

    french = Client(HTTP_ACCEPT_LANGUAGE="fr")
    for _ in range(5):  # a challenge whose clips differ in length in the two languages (almost always)
        page = french.get(USER_ID)
        challenge = CaptchaStore.objects.get(hashkey=captcha_answer(text(page))["captcha_0"]).challenge
        if clip_frames("fr", challenge) != clip_frames("en", challenge):
            break
    assert '<html lang="fr">' in text(page)
    url = re.search(r'src="(/password-reset/captcha/[0-9a-f]{40}\.wav)"', text(page)).group(1)

    fr_audio, fr_frames = audio_of(french, page)
    en_audio, _en_frames = audio_of(Client(HTTP_ACCEPT_LANGUAGE="en"), page)
    en_again = Client(HTTP_ACCEPT_LANGUAGE="en").get(url).content
    assert en_again != en_audio, "each listening is randomised (voice, pauses, babble, noise)"
    assert fr_audio != en_audio
    # The French audio is the French clips, each spoken TEMPO times faster or slower, with LEAD
    # seconds before the first and PAUSE seconds after each one.
    n, rate = len(challenge), 8000
    low = clip_frames("fr", challenge) / TEMPO[1] + LEAD[0] * rate + n * PAUSE[0] * rate - 2 * n
    high = clip_frames("fr", challenge) / TEMPO[0] + LEAD[1] * rate + n * PAUSE[1] * rate + 2 * n
    assert low <= fr_frames <= high


def test_the_audio_of_one_language_is_made_of_that_language_s_clips():
    import random

    from portal.captcha.audio import render

    def spans(language):
        return render("AC3X7M", language, random.Random(7)).spans

    # Same seed, same tempo per character and same pauses: each character lasts in proportion to
    # that language's clip, and starts later or earlier by exactly what the ones before it took.
    fr, en = spans("fr"), spans("en")
    for (fr_start, fr_end), (en_start, en_end), char in zip(fr, en, "AC3X7M", strict=True):
        fr_clip, en_clip = clip_frames("fr", char), clip_frames("en", char)
        assert fr_clip != en_clip
        assert abs((fr_end - fr_start) / (en_end - en_start) - fr_clip / en_clip) < 0.002
    shifts = [fr_start - en_start for (fr_start, _), (en_start, _) in zip(fr, en, strict=True)]
    taken = [(fr_end - fr_start) - (en_end - en_start) for (fr_start, fr_end), (en_start, en_end) in zip(fr, en, strict=True)]
    assert shifts == [sum(taken[:i]) for i in range(len(taken))]


# --- nothing says whether an account exists ----------------------------------------------------


def journey(client, email, wrong_code):
    """Every page a person sees after the CAPTCHA."""
    choose_work_account(client)
    return [
        submit_user_id(client, email),
        client.get(VERIFY),
        enter_code(client, wrong_code),
        resend(client),
        enter_code(client, ""),
        client.get(NEW_PASSWORD),
        set_password(client),
    ]


def test_an_existing_and_a_missing_account_look_the_same(alice, admins, deliver):
    wrong = "12345x"
    real = journey(Client(), ALICE, wrong)
    missing = journey(Client(), GHOST, wrong)
    assert [r.status_code for r in real] == [r.status_code for r in missing] == [302, 200, 200, 200, 200, 302, 302]
    for a, b in zip(real, missing, strict=True):
        assert templates(a) == templates(b)
        assert a.get("Location") == b.get("Location")
        assert shape(a) == shape(b)
    assert "The code is not right or has expired" in text(real[2])

    deliver()
    assert {tuple(m.to) for m in mail.outbox} == {(ALICE_HOME,)}, "codes go only to the existing account"
    assert len(codes_to(ALICE_HOME)) == 2  # the first one and the resent one


def test_before_the_captcha_nothing_differs_either(alice):
    pages = {}
    for email in (ALICE, GHOST):
        client = Client()
        choose_work_account(client)
        pages[email] = [client.get(USER_ID), submit_user_id(client, email, answer="wrong"), client.post(USER_ID, {"email": email})]
    for a, b in zip(pages[ALICE], pages[GHOST], strict=True):
        assert a.status_code == b.status_code == 200
        assert templates(a) == templates(b)
        assert shape(a, ALICE) == shape(b, GHOST)
    assert "Invalid CAPTCHA" in text(pages[ALICE][1])


# --- codes -------------------------------------------------------------------------------------


def test_a_code_expires_after_5_minutes(client, alice, deliver):
    begin(client, ALICE)
    code = latest_code(deliver)
    with travel(timedelta(minutes=5, seconds=30)):
        late = enter_code(client, code)
        assert late.status_code == 200
        assert "The code is not right or has expired" in text(late)
        assert resend(client).status_code == 200
        fresh = latest_code(deliver)
        assert len(codes_to(ALICE_HOME)) == 2
        assert enter_code(client, fresh)["Location"] == NEW_PASSWORD


def test_a_code_within_5_minutes_works(client, alice, deliver):
    begin(client, ALICE)
    code = latest_code(deliver)
    with travel(timedelta(minutes=4, seconds=30)):
        assert enter_code(client, code)["Location"] == NEW_PASSWORD


def test_a_code_works_once(client, alice, deliver):
    begin(client, ALICE)
    code = latest_code(deliver)
    assert enter_code(client, code)["Location"] == NEW_PASSWORD
    again = enter_code(client, code)
    assert again["Location"] == NEW_PASSWORD, "sent again by the session it verified (a double click): nothing new"
    other = Client()
    begin(other, ALICE)
    replay = enter_code(other, code)
    assert replay.status_code == 200 and "The code is not right or has expired" in text(replay), "no other session"

    assert "Your password is reset" in text(set_password(client))
    after = enter_code(client, code)
    assert after.status_code == 302 and after["Location"] == USER_ID
    assert set_password(client, "another long passphrase here")["Location"] == USER_ID
    alice.refresh_from_db()
    assert alice.check_password(NEW)


def test_an_older_code_stops_working_once_a_new_one_is_sent(client, alice, deliver):
    begin(client, ALICE)
    first = latest_code(deliver)
    resend(client)
    second = latest_code(deliver)
    if first != second:
        assert "The code is not right" in text(enter_code(client, first))
    assert enter_code(client, second)["Location"] == NEW_PASSWORD


def test_5_wrong_codes_end_the_session_that_made_them_not_the_owners(client, alice, deliver):
    begin(client, ALICE)
    code = latest_code(deliver)
    for _ in range(5):
        response = enter_code(client, other_than(code))
        assert response.status_code == 200 and "The code is not right" in text(response)
    refused = enter_code(client, code)
    assert refused.status_code == 200 and "The code is not right" in text(refused), "this session: even the right code"
    assert client.get(NEW_PASSWORD)["Location"] == USER_ID
    resend(client)
    deliver()
    assert len(codes_to(ALICE_HOME)) == 1, "no new code for this session"
    assert not AuditEvent.objects.filter(action="password.reset_blocked").exists()

    reset_all_the_way(Client(REMOTE_ADDR="192.0.2.10"), deliver)
    alice.refresh_from_db()
    assert alice.check_password(NEW)


def test_4_wrong_codes_then_the_right_one_works(client, alice, deliver):
    begin(client, ALICE)
    code = latest_code(deliver)
    for _ in range(4):
        enter_code(client, other_than(code))
    assert enter_code(client, code)["Location"] == NEW_PASSWORD


def test_more_than_10_code_emails_in_10_minutes_are_refused(client, alice, deliver, fresh_rate_window):
    fresh_rate_window("10/10m")  # reset.resend, per address
    begin(client, ALICE)  # code 1
    for _ in range(9):  # codes 2 to 10
        assert resend(client).status_code == 200
    deliver()
    assert len(codes_to(ALICE_HOME)) == 10
    eleventh = resend(client)
    assert eleventh.status_code == 200, "silent, like every other no-code case"
    deliver()
    assert len(codes_to(ALICE_HOME)) == 10, "the 11th request sends nothing"
    assert resend(client).status_code == 429

    with travel(timedelta(minutes=11)):
        begin(Client(), ALICE)
        deliver()
        assert len(codes_to(ALICE_HOME)) == 11, "a new window, a new code"


def test_the_reset_session_lasts_15_minutes(client, alice, deliver):
    begin(client, ALICE)
    with travel(timedelta(minutes=14)):
        resend(client)
        code = latest_code(deliver)
    with travel(timedelta(minutes=16)):
        response = client.get(VERIFY)
        assert response.status_code == 302 and response["Location"] == USER_ID
        assert enter_code(client, code)["Location"] == USER_ID
        start_again = client.get(response["Location"])
        assert "Get back into your account" in text(start_again)


def test_a_verified_session_still_ends_after_15_minutes(client, alice, deliver):
    begin(client, ALICE)
    assert enter_code(client, latest_code(deliver))["Location"] == NEW_PASSWORD
    with travel(timedelta(minutes=16)):
        assert client.get(NEW_PASSWORD)["Location"] == USER_ID
        assert set_password(client)["Location"] == USER_ID
    alice.refresh_from_db()
    assert alice.check_password(factories.PASSWORD)


# --- authenticator codes -----------------------------------------------------------------------


def test_a_user_with_an_authenticator_must_give_its_code_too(client, alice, deliver):
    TOTPDevice.objects.create(user=alice, name="phone", confirmed=True)
    begin(client, ALICE)
    refused = enter_code(client, latest_code(deliver))
    assert refused.status_code == 200 and "The code is not right" in text(refused)
    assert client.get(NEW_PASSWORD)["Location"] == USER_ID


def test_a_user_with_an_authenticator_resets_with_both_codes(client, alice, deliver):
    device = TOTPDevice.objects.create(user=alice, name="phone", confirmed=True)
    begin(client, ALICE)
    response = enter_code(client, latest_code(deliver), authenticator_code(device))
    assert response["Location"] == NEW_PASSWORD
    assert "Your password is reset" in text(set_password(client))


def test_a_global_admin_needs_the_emailed_and_the_authenticator_code(client, tenant, deliver):
    admin = member(tenant, GLOBAL_ADMIN, Membership.Role.GLOBAL_ADMIN, alternate_email="gabriel@mail.example")
    device = TOTPDevice.objects.create(user=admin, name="phone", confirmed=True)
    begin(client, GLOBAL_ADMIN)
    code = latest_code(deliver, "gabriel@mail.example")
    assert "The code is not right" in text(enter_code(client, other_than(code), authenticator_code(device)))
    assert "The code is not right" in text(enter_code(client, code))  # the emailed code alone
    assert client.get(NEW_PASSWORD)["Location"] == USER_ID


def test_a_global_admin_with_both_codes_resets(client, tenant, deliver):
    admin = member(tenant, GLOBAL_ADMIN, Membership.Role.GLOBAL_ADMIN, alternate_email="gabriel@mail.example")
    device = TOTPDevice.objects.create(user=admin, name="phone", confirmed=True)
    reset_all_the_way(client, deliver, GLOBAL_ADMIN, "gabriel@mail.example", authenticator_code(device))
    admin.refresh_from_db()
    assert admin.check_password(NEW)


def test_a_global_admin_without_an_authenticator_cannot_reset(client, tenant, deliver):
    admin = member(tenant, GLOBAL_ADMIN, Membership.Role.GLOBAL_ADMIN, alternate_email="gabriel@mail.example")
    begin(client, GLOBAL_ADMIN)
    code = latest_code(deliver, "gabriel@mail.example")
    for token in ("", "123456"):
        refused = enter_code(client, code, token)
        assert refused.status_code == 200 and "The code is not right" in text(refused)
    assert client.get(NEW_PASSWORD)["Location"] == USER_ID
    admin.refresh_from_db()
    assert admin.check_password(factories.PASSWORD)


# --- after success -----------------------------------------------------------------------------


def test_success_ends_other_sessions_and_does_not_sign_in(client, alice, deliver):
    laptop = Client()
    assert sign_in(laptop, ALICE, factories.PASSWORD).status_code == 302
    assert laptop.get("/account/security/").status_code == 200

    reset_all_the_way(client, deliver)
    assert not is_signed_in(client)
    assert client.get("/account/security/").status_code == 302

    gone = laptop.get("/account/security/")
    assert gone.status_code == 302 and gone["Location"].startswith("/login/"), "the other session ended"


def test_success_tells_every_address_and_the_other_admins(client, alice, admins, deliver):
    reset_all_the_way(client, deliver)
    mail.outbox.clear()
    deliver()
    for address in (ALICE, ALICE_HOME):
        [told] = [m for m in emails_to(address) if m.subject == "Your password was reset"]
        assert "If this was not you, freeze your account now" in told.body
        assert "/password-reset/not-me/?token=" in link_in(told, "/password-reset/not-me/")
        assert "127.0.0.1" in told.body
    [told] = emails_to(GLOBAL_ADMIN)
    assert told.subject == f"{ALICE} reset their password"
    assert "by self-service in Contoso Conseil SARL" in told.body
    assert "/password-reset/not-me/?token=" in link_in(told, "/password-reset/not-me/")
    assert not emails_to(USER_ADMIN), "a user admin gets no freeze link: only the account and its global admins"
    assert not emails_to(COLLEAGUE)
    own = link_in(emails_to(ALICE)[0], "/password-reset/not-me/")
    assert own == link_in(emails_to(ALICE_HOME)[0], "/password-reset/not-me/") != link_in(told, "/password-reset/not-me/")

    event = AuditEvent.objects.get(action="password.reset_self_service")
    assert event.target_id == str(alice.pk) and event.tenant.legal_name == "Contoso Conseil SARL"
    assert event.ip_address == "127.0.0.1"


def test_this_was_not_me_freezes_the_account_once(client, alice, admins, deliver):
    reset_all_the_way(client, deliver)
    deliver()
    [told] = [m for m in emails_to(ALICE) if m.subject == "Your password was reset"]
    link = path_of(link_in(told, "/password-reset/not-me/"))
    token = link.split("token=", 1)[1]
    mail.outbox.clear()

    scanner = Client().get(link)
    assert scanner.status_code == 200
    assert "Freeze my account" in text(scanner) and f'name="token" value="{token}"' in text(scanner)
    alice.refresh_from_db()
    assert alice.frozen_at is None, "following the link freezes nothing"
    deliver()
    assert mail.outbox == []

    owner = Client()
    frozen = owner.post(link, {"token": token})
    assert frozen.status_code == 200 and "Your account is frozen" in text(frozen)
    alice.refresh_from_db()
    assert alice.frozen_at is not None
    refused = sign_in(Client(), ALICE, NEW)
    assert refused.status_code == 200 and "The email or password is not right" in text(refused)

    deliver()
    for admin in (GLOBAL_ADMIN, USER_ADMIN):
        [alert] = emails_to(admin)
        assert alert.subject == f"Account frozen in Contoso Conseil SARL: {ALICE}"
    assert not emails_to(COLLEAGUE)
    assert AuditEvent.objects.filter(action="account.frozen", target_id=str(alice.pk)).count() == 1

    again = owner.post(link, {"token": token})
    assert "Link not valid" in text(again)
    deliver()
    assert len(mail.outbox) == 2, "no second alert"

    # A frozen account cannot reset its way back in either.
    blocked = Client()
    begin(blocked, ALICE)
    deliver()
    assert codes_to(ALICE_HOME) == [], "no code for a frozen account"


def test_an_admins_freeze_link_works_too(client, alice, admins, deliver):
    reset_all_the_way(client, deliver)
    deliver()
    link = path_of(link_in(emails_to(GLOBAL_ADMIN)[-1], "/password-reset/not-me/"))
    Client().post(link, {"token": link.split("token=", 1)[1]})
    alice.refresh_from_db()
    assert alice.frozen_at is not None


def test_a_made_up_freeze_token_does_nothing(client, alice):
    response = client.post("/password-reset/not-me/", {"token": "made-up"})
    assert "Link not valid" in text(response)
    assert client.post("/password-reset/not-me/", {}).status_code == 200
    alice.refresh_from_db()
    assert alice.frozen_at is None


# --- the new password --------------------------------------------------------------------------


def test_a_short_password_is_refused_next_to_the_field(client, alice, admins, deliver):
    begin(client, ALICE)
    assert enter_code(client, latest_code(deliver))["Location"] == NEW_PASSWORD
    mail.outbox.clear()
    response = set_password(client, "abcde")
    assert response.status_code == 200
    body = text(response)
    field = re.search(r'<input[^>]*name="new_password2"[^>]*>(.*?)</div>', body, re.S)
    assert field and "This password is too short: use at least 15 characters" in field.group(1)
    assert response.context["form"].errors["new_password2"]

    alice.refresh_from_db()
    assert alice.check_password(factories.PASSWORD)
    deliver()
    assert mail.outbox == []
    assert not AuditEvent.objects.filter(action="password.reset_self_service").exists()
    assert "Your password is reset" in text(set_password(client)), "the session is still usable"


def test_a_common_or_mismatched_password_is_refused(client, alice, deliver):
    begin(client, ALICE)
    enter_code(client, latest_code(deliver))
    mismatch = client.post(NEW_PASSWORD, {"new_password1": NEW, "new_password2": NEW + "!"})
    assert "The two passwords are not the same." in text(mismatch)
    common = set_password(client, "1q2w3e4r5t6y7u8i9o0p")
    assert "This password is too common." in text(common)
    alice.refresh_from_db()
    assert alice.check_password(factories.PASSWORD)


# --- rate limits -------------------------------------------------------------------------------


def test_too_many_user_id_posts_from_one_ip_get_429(client, db, fresh_rate_window):
    fresh_rate_window("10/10m")  # reset.start, per address
    statuses = [
        client.post(USER_ID, {"email": f"u{i}@contoso.example", "captcha_0": "x", "captcha_1": "y"}).status_code for i in range(11)
    ]
    assert statuses == [200] * 10 + [429]
    last = client.post(USER_ID, {"email": "u99@contoso.example"})
    assert last.status_code == 429 and "Too many attempts" in text(last)


def test_too_many_user_id_posts_for_one_user_id_get_429_from_any_ip(client, alice, fresh_rate_window):
    fresh_rate_window("10/10m", ALICE)  # reset.start, per user ID
    statuses = [
        client.post(USER_ID, {"email": ALICE, "captcha_0": "x", "captcha_1": "y"}, REMOTE_ADDR=f"10.0.0.{i}").status_code
        for i in range(11)
    ]
    assert statuses == [200] * 10 + [429]
    # even with a right CAPTCHA answer, from yet another address
    blocked = submit_user_id(client, ALICE, REMOTE_ADDR="10.0.1.1")
    assert blocked.status_code == 429
    assert Client().post(USER_ID, {"email": "bob@contoso.example"}, REMOTE_ADDR="10.0.2.1").status_code == 200


def test_too_many_code_attempts_get_429(client, alice, deliver, fresh_rate_window):
    fresh_rate_window("20/10m")  # reset.verify, per address
    begin(client, ALICE)
    statuses = [enter_code(client, "x").status_code for _ in range(21)]
    assert statuses == [200] * 20 + [429]


def test_spaces_or_capitals_around_the_user_id_do_not_escape_its_limit(client, alice, fresh_rate_window):
    fresh_rate_window("10/10m", ALICE)  # reset.start, per user ID
    variants = [" " * i + (ALICE.upper() if i % 2 else ALICE) + " " * (i % 3) for i in range(11)]
    statuses = [
        client.post(USER_ID, {"email": v, "captcha_0": "x", "captcha_1": "y"}, REMOTE_ADDR=f"10.0.0.{i}").status_code
        for i, v in enumerate(variants)
    ]
    assert statuses == [200] * 10 + [429]
