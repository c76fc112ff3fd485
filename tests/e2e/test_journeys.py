"""Every journey, start to finish, in a real browser: a person clicks, types and reads their email.

The journeys are one story, in order (each is its own test): the requester files (1), an agent checks and
proposes (2), a supervisor approves and the waiting period passes (3), the new admin sets up the console
(4), one of the company's users resets their password (5), and everything that goes wrong on the way (6).
Only the starting fixtures are written to the database; everything else goes through the pages.
"""

import io
import re
import time
import wave
from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.auth.models import Group
from django.core.cache import cache

from accounts.models import Membership, User
from portal.celery import app as celery_app
from portal.clock import travel
from tests import factories
from tests.factories import PASSWORD
from tickets.selectors import AGENTS_GROUP, SUPERVISORS_GROUP

from .conftest import screenshot
from .people import by_name, by_text, captcha_answer, code_from_secret, fresh_code, tab_to, type_into

DOMAIN = "fabrikam.example"
REQUESTER = f"claire@{DOMAIN}"
NEW_ADMIN = f"luc@{DOMAIN}"
FORMER = f"marc@{DOMAIN}"
MEMBER = f"zoe@{DOMAIN}"
MEMBER_ALTERNATE = "zoe.personal@example.net"
NEW_ADMIN_PASSWORD = "a long and unusual passphrase 42"
MEMBER_NEW_PASSWORD = "violet kettle under seven bridges"


_new_context = None
_story = None


def journeys_story():
    """The story the journeys left (their browsers, request and links), for the accessibility checks."""
    assert _story is not None and getattr(_story, "objection_url", None), "the journeys run first"
    return _story


class Story:
    """What the journeys hand on to each other: the browsers of each person, links, secrets."""

    def __init__(self):
        self.used_steps: dict[str, set] = {}


@pytest.fixture(scope="module")
def story(site, new_context, tmp_path_factory):
    """The company on record (its former admin gone), the support staff, and a user of the company."""
    factories.support_groups()
    tenant = factories.TenantFactory(legal_name="Fabrikam SARL", primary_domain=DOMAIN, partner_id="P-424242")
    former = factories.UserFactory(email=FORMER, full_name="Marc Ancien", is_active=False)
    factories.MembershipFactory(user=former, tenant=tenant, role=Membership.Role.GLOBAL_ADMIN)
    member = factories.UserFactory(email=MEMBER, full_name="Zoé Petit", alternate_email=MEMBER_ALTERNATE)
    factories.MembershipFactory(user=member, tenant=tenant, role=Membership.Role.MEMBER)
    # Staff without a second factor yet: each enrols on first sign-in, and the test keeps the secret shown.
    agent = factories.UserFactory(email="agent@support.example", full_name="Ana Agent", is_staff=True)
    agent.groups.add(Group.objects.get(name=AGENTS_GROUP))
    supervisor = factories.UserFactory(email="sup@support.example", full_name="Sam Supervisor", is_staff=True)
    supervisor.groups.add(Group.objects.get(name=SUPERVISORS_GROUP))
    s = Story()
    s.tenant, s.member = tenant, member
    s.agent, s.supervisor = agent, supervisor
    s.files = tmp_path_factory.mktemp("files")
    (s.files / "id-card.pdf").write_bytes(b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n")
    (s.files / "notes.txt").write_text("not a PDF, a JPEG or a PNG\n")
    global _new_context, _story
    _new_context = new_context
    _story = s
    s.new_admin_email = NEW_ADMIN
    s.requester = new_context("en").new_page()
    return s


def keyboard_fill(page, values: dict):
    for name, value in values.items():
        type_into(page, name, value)


def test_1_requester_files_confirms_and_follows_with_the_keyboard_alone(site, story):
    page = story.requester
    page.goto("/")
    screenshot(page, "01-home")
    # From the home page to the form, by keyboard.
    tab_to(page, by_text("New request"))
    page.keyboard.press("Enter")
    page.wait_for_load_state()
    screenshot(page, "02-request-start")
    link = tab_to(page, lambda i: i["tag"] == "a" and "/requests/new/admin_left/" in (page.evaluate("document.activeElement.href")))
    assert link
    page.keyboard.press("Enter")
    page.wait_for_url("**/requests/new/admin_left/")
    keyboard_fill(
        page,
        {
            "company_legal_name": "Fabrikam SARL",
            "company_partner_id": "P-424242",
            "company_domain": DOMAIN,
        },
    )
    tab_to(page, by_name("company_country"))
    page.keyboard.type("France")
    keyboard_fill(
        page,
        {
            "company_address": "12 rue de la Paix\n75002 Paris",
            "company_phone": "+33 1 70 00 00 01",
            "requester_name": "Claire Martin",
            "requester_email": REQUESTER,
            "requester_phone": "+33 6 00 00 00 01",
            "requester_job_title": "Office manager",
            "former_admin_name": "Marc Ancien",
            "former_admin_email": FORMER,
        },
    )
    tab_to(page, by_name("former_admin_reason"))
    page.keyboard.type("Left")
    keyboard_fill(
        page,
        {
            "former_admin_details": "Left in September.",
            "elevate_email": NEW_ADMIN,
            "elevate_name": "Luc Bernard",
            "reason": "Nobody can manage our users since Marc left.",
        },
    )
    tab_to(page, by_name("evidence"))
    choose_file_with_keyboard(page, story.files / "id-card.pdf")
    type_into(page, "captcha_1", captcha_answer(page))
    tab_to(page, by_name("consent"))
    page.keyboard.press("Space")
    screenshot(page, "03-request-form-filled")
    print(tab_to(page, by_text("Send the request")))
    with page.expect_navigation():
        page.keyboard.press("Enter")
    screenshot(page, "04-request-submitted")
    assert "/requests/submitted/" in page.url, page.locator("main").inner_text()
    screenshot(page, "04-request-submitted")
    story.reference = page.locator("main").inner_text().split("SR-")[1][:9]
    story.reference = "SR-" + story.reference
    assert story.reference in page.locator("main").inner_text()

    # The confirmation email; its link opens a page with one button (Tab to it, Enter).
    confirm = site.mail.wait_for(REQUESTER, "/confirm/")
    story.confirm_url = confirm.link("/confirm/")
    page.goto(story.confirm_url)
    screenshot(page, "05-confirm")
    tab_to(page, lambda i: i["tag"] in ("button", "input") and i["type"] == "submit" and i["text"] != "Change")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "token=" not in page.url
    assert page.locator("#status").inner_text() == "New"
    # The tracking link arrives by email too, and opens the same page in a new browser session.
    tracking = site.mail.wait_for(REQUESTER, "?token=")
    assert "/confirm/" not in tracking.body
    story.tracking_url = tracking.link(f"/requests/{story.reference}/")
    page.goto(story.tracking_url)
    assert page.locator("#status").inner_text() == "New"
    screenshot(page, "06-tracking-new")

    # Support asks a question (an agent, in another browser); the requester is emailed and sees the status.
    agent = staff_page(site, story, story.agent)
    open_request(agent, story.reference)
    agent.get_by_role("button", name="Assign to me").click()
    agent.get_by_label("What do you need from the requester?").fill("Please send a letter on company paper.")
    agent.get_by_role("button", name="Ask the requester").click()
    asked = site.mail.wait_for(REQUESTER, "letter on company paper")
    assert "letter on company paper" in asked.body
    page.goto(f"/requests/{story.reference}/")  # the page the private link opened: its cookie is kept
    assert page.locator("#status").inner_text() == "Waiting on requester"
    assert "letter on company paper" in page.locator("#timeline").inner_text()
    screenshot(page, "07-tracking-question")
    # The answer, with a file, by keyboard.
    type_into(page, "body", "Here is the letter, signed by our CEO.")
    tab_to(page, by_name("evidence"))
    choose_file_with_keyboard(page, story.files / "id-card.pdf")
    tab_to(page, by_text("Send"))
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.locator("#status").inner_text() == "In review"
    assert "signed by our CEO" in page.locator("#timeline").inner_text()
    screenshot(page, "08-tracking-answered")


def test_2_agent_signs_in_with_the_app_finds_the_request_checks_and_proposes(site, story):
    # A new browser: the agent signs in with the code their app computes from the key shown at enrolment.
    page = site_context(site, "en").new_page()
    sign_in(page, story, story.agent)
    assert page.url.endswith("/admin/"), page.url
    screenshot(page, "10-admin-index")
    open_request(page, story.reference)
    screenshot(page, "11-admin-request")
    story.request_pk = page.url.rstrip("/").split("/")[-2]
    # Match the tenant the domain suggests, then compare and record each check.
    choose(page.get_by_label("Tenant"), "Fabrikam SARL")
    page.get_by_role("button", name="Match this tenant").click()
    assert "Fabrikam SARL" in page.locator("#comparison").inner_text() or page.locator("#comparison").count() == 1
    for kind in ("Identity evidence", "Call-back", "Company details", "Former admin"):
        form = page.locator("form", has=page.get_by_role("button", name="Record check"))
        choose(form.get_by_label("Check"), kind)
        form.get_by_label("Outcome").select_option(label="Passed")
        form.get_by_label("Note").fill(f"{kind}: ok")
        page.get_by_role("button", name="Record check").click()
        page.wait_for_load_state()
    assert page.locator("#sr-status").inner_text() == "Verified", page.locator("#checklist").inner_text()
    assert "complete" in page.locator("#proof").inner_text()
    screenshot(page, "12-admin-verified")
    # Propose the user the requester named.
    form = page.locator("form", has=page.get_by_role("button", name="Propose elevation"))
    assert form.get_by_label("Email of the user to make global admin").input_value() in ("", NEW_ADMIN)
    form.get_by_label("Email of the user to make global admin").fill(NEW_ADMIN)
    form.get_by_label("Full name").fill("Luc Bernard")
    form.get_by_role("button", name="Propose elevation").click()
    assert page.locator("#sr-status").inner_text() == "Elevation proposed"
    assert "Waiting for a supervisor" in page.locator("#elevation").inner_text()
    screenshot(page, "13-admin-proposed")
    story.contexts[story.agent.email] = page


def test_3_another_supervisor_approves_and_the_waiting_period_passes(site, story):
    page = staff_page(site, story, story.supervisor)
    open_request(page, story.reference)
    approve = page.get_by_role("button", name=f"Approve making {NEW_ADMIN} global admin")
    approve.click()
    page.wait_for_load_state()
    assert page.locator("#sr-status").inner_text() == "Approved, waiting period"
    assert "unless someone objects" in page.locator("#elevation").inner_text()
    screenshot(page, "14-admin-approved")
    # The requester sees the date it takes effect; the former admin is told, with a link to object.
    requester = story.requester
    requester.goto(f"/requests/{story.reference}/")
    assert requester.locator("#status").inner_text() == "Approved, waiting period"
    assert requester.locator("#effective-at").is_visible()
    screenshot(requester, "15-tracking-waiting-period")
    warned = site.mail.wait_for(FORMER, "/requests/object/")
    story.objection_url = warned.link("/requests/object/")
    # Nobody objects: the waiting period passes on the business clock, and beat's task (run by the worker)
    # completes the elevation.
    with travel(settings.ELEVATION_WAITING_PERIOD + timedelta(minutes=1)):
        celery_app.send_task("tickets.tasks.elevations_complete_due")
        welcome = site.mail.wait_for(NEW_ADMIN, "/account/set-password/")
    story.set_password_url = welcome.link("/account/set-password/")
    requester.goto(f"/requests/{story.reference}/")
    assert requester.locator("#status").inner_text() == "Elevated"
    screenshot(requester, "16-tracking-elevated")
    # Each status the requester went through is in their timeline, in order.
    timeline = requester.locator("#timeline").inner_text()
    seen = [
        label
        for label in (
            "New",
            "In review",
            "Waiting on requester",
            "Verified",
            "Elevation proposed",
            "Approved, waiting period",
            "Elevated",
        )
        if f"Status: {label}" in timeline
    ]
    assert seen == [
        "New",
        "In review",
        "Waiting on requester",
        "Verified",
        "Elevation proposed",
        "Approved, waiting period",
        "Elevated",
    ], timeline


def test_4_new_admin_sets_a_password_enrols_and_runs_the_console(site, story):
    page = site_context(site, "en").new_page()
    page.goto(story.set_password_url)
    screenshot(page, "20-set-password")
    page.get_by_label("New password").first.fill(NEW_ADMIN_PASSWORD)
    page.get_by_label("New password confirmation").fill(NEW_ADMIN_PASSWORD)
    page.get_by_role("button", name="Set password").click()
    page.wait_for_load_state()
    screenshot(page, "21-set-password-done")
    luc = User.objects.get(email=NEW_ADMIN)
    sign_in(page, story, luc, password=NEW_ADMIN_PASSWORD)
    assert "/console/" in page.url, page.url
    screenshot(page, "22-console")
    if page.get_by_role("link", name="Fabrikam SARL").count():
        page.get_by_role("link", name="Fabrikam SARL").first.click()
    page.get_by_role("link", name="Settings").first.click()
    page.get_by_label("Users may reset their own password").check()
    page.get_by_role("button", name="Save").click()
    page.wait_for_load_state()
    assert page.get_by_label("Users may reset their own password").is_checked()
    screenshot(page, "23-console-settings")
    page.get_by_role("link", name="Users", exact=True).first.click()
    row = page.locator("#users tr", has_text=MEMBER)
    row.get_by_role("button", name="Email reset link").click()
    page.wait_for_load_state()
    screenshot(page, "24a-console-confirm-reset-link")
    page.locator("#confirm form").get_by_role("button").click()  # a security action asks first
    page.wait_for_load_state()
    screenshot(page, "24-console-users")
    assert site.mail.wait_for(MEMBER, "/account/set-password/")
    story.contexts[NEW_ADMIN] = page


def test_5_a_user_resets_their_own_password_through_the_captcha_and_its_audio(site, story):
    page = site_context(site, "en").new_page()
    page.goto("/login/")
    page.get_by_role("link", name="Can't access your account?").click()
    page.get_by_label("Work or school account").check()
    page.get_by_role("button", name="Next").click()
    page.wait_for_url("**/password-reset/work/")
    screenshot(page, "30-reset-user-id")
    # The audio alternative is served and plays: a WAV of a few seconds, in the page's language.
    audio = page.request.get(page.locator("audio").get_attribute("src"))
    assert audio.ok and audio.headers["content-type"] == "audio/wav"
    with wave.open(io.BytesIO(audio.body())) as wav:
        seconds = wav.getnframes() / wav.getframerate()
    assert 1 < seconds < 30, seconds
    assert page.evaluate("document.querySelector('audio').canPlayType('audio/wav')") != ""
    page.get_by_label("User ID").fill(MEMBER)
    # By name: today crispy wraps the CAPTCHA in a <legend for=...>, which labels nothing (issue 11, defect 1).
    page.locator("input[name=captcha_1]").fill(captcha_answer(page))
    page.get_by_role("button", name="Next").click()
    page.wait_for_url("**/password-reset/verify/")
    screenshot(page, "31-reset-verify")
    code = re.search(r"\b(\d{6})\b", site.mail.wait_for(MEMBER_ALTERNATE, "").body).group(1)
    page.get_by_label("Code from your alternate email").fill(code)
    page.get_by_role("button", name="Next").click()
    page.wait_for_url("**/password-reset/new-password/")
    page.get_by_label("New password").first.fill(MEMBER_NEW_PASSWORD)
    page.get_by_label("Confirm new password").fill(MEMBER_NEW_PASSWORD)
    page.get_by_role("button", name="Finish").click()
    assert page.get_by_role("heading", name="Your password is reset").is_visible()
    screenshot(page, "32-reset-done")
    page.get_by_role("link", name="Sign in").last.click()
    page.get_by_label("Email").fill(MEMBER)
    page.get_by_label("Password").fill(MEMBER_NEW_PASSWORD)
    page.get_by_role("button", name="Next").click()
    page.wait_for_load_state()
    assert "/account/security/" in page.url, page.locator("main").inner_text()


def test_6_what_goes_wrong_is_said_and_what_was_typed_is_kept(site, story):
    page = site_context(site, "en").new_page()
    # A wrong CAPTCHA: the form comes back with everything typed.
    page.goto("/requests/new/admin_left/")
    page.get_by_label("Company legal name").fill("Fabrikam SARL")
    page.get_by_label("Company domain").fill(DOMAIN)
    page.get_by_label("Your work email").fill(REQUESTER)
    page.locator("input[name=captcha_1]").fill("WRONG9")
    page.get_by_role("button", name="Send the request").click()
    page.wait_for_load_state()
    screenshot(page, "40-error-captcha")
    assert page.get_by_role("alert").first.is_visible(), "the page says something went wrong, at the top"
    assert page.get_by_label("Company legal name").input_value() == "Fabrikam SARL"
    assert page.get_by_label("Your work email").input_value() == REQUESTER
    # Today the CAPTCHA's message is in the page but hidden (issue 11, defect 1, fixed by another change,
    # whose own test checks it is shown next to the field).
    assert page.get_by_text("Invalid CAPTCHA").count() >= 1
    # A file that is not a PDF, JPEG or PNG: said next to the evidence field.
    page.locator("input[name=evidence]").set_input_files(str(story.files / "notes.txt"))
    page.locator("input[name=captcha_1]").fill(captcha_answer(page))
    page.get_by_role("button", name="Send the request").click()
    page.wait_for_load_state()
    screenshot(page, "41-error-upload")
    evidence = page.locator("input[name=evidence]")
    assert "is-invalid" in evidence.get_attribute("class")
    error = page.locator("[id^=error_][id$=_id_evidence]").first
    assert error.is_visible() and error.inner_text().strip(), "the reason is shown next to the field"
    assert page.get_by_label("Company legal name").input_value() == "Fabrikam SARL"

    # A confirmation link used a second time, and a set-password link used already.
    page.goto(story.confirm_url)
    screenshot(page, "42-error-reused-confirmation")
    text = page.locator("main").inner_text()
    assert "already confirmed" in text and "not valid" not in text, text  # not an invitation to file again
    assert page.locator("main a[href='/requests/access/']").count(), "the way to get a new tracking link"
    page.goto(story.set_password_url)
    assert page.get_by_role("heading", name="Link not valid").is_visible()
    screenshot(page, "43-error-used-set-password-link")

    # A wrong authenticator code: said next to the field; the right one then works.
    page.goto("/login/")
    page.get_by_label("Email").fill(story.agent.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Next").click()
    page.wait_for_url("**/login/verify/")
    secret = story.secrets[story.agent.email]
    valid = {code_from_secret(secret, offset) for offset in range(-3, 4)}
    wrong = next(c for c in (f"{n:06d}" for n in range(1000)) if c not in valid)
    page.get_by_label("Code").fill(wrong)
    page.get_by_role("button", name="Verify").click()
    page.wait_for_load_state()
    screenshot(page, "44-error-wrong-code")
    code = page.get_by_label("Code")
    assert "is-invalid" in code.get_attribute("class")
    assert page.locator("[id^=error_][id$=_id_token]").first.is_visible()
    time.sleep(1.5)  # django-otp refuses any code for a second after a wrong one (OTP_TOTP_THROTTLE_FACTOR)
    code.fill(fresh_code(secret, story.used_steps[story.agent.email]))
    page.get_by_role("button", name="Verify").click()
    page.wait_for_url("**/admin/")

    # Too many sign-in attempts from one network: said at the top, the email typed is kept.
    stranger = site_context(site, "en").new_page()
    stranger.goto("/login/")
    for _ in range(40):
        stranger.get_by_label("Email").fill("nobody@fabrikam.example")
        stranger.get_by_label("Password").fill("not the password")
        stranger.get_by_role("button", name="Next").click()
        stranger.wait_for_load_state()
        if stranger.get_by_text("Too many attempts").count():
            break
    else:
        raise AssertionError("never limited")
    screenshot(stranger, "45-error-rate-limited")
    assert stranger.get_by_label("Email").input_value() == "nobody@fabrikam.example"
    cache.clear()  # the limit's counters: the next tests sign in from the same address


def choose_file_with_keyboard(page, path):
    """Space on the focused file input opens the file chooser, where the person picks the file."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    for key in ("Space", "Enter", "Space"):
        try:
            with page.expect_file_chooser(timeout=4000) as chooser:
                page.keyboard.press(key)
        except PlaywrightTimeout:
            continue
        chooser.value.set_files(str(path))
        return
    raise AssertionError("the file input did not open a file chooser from the keyboard")


def choose(select, text):
    """Pick the option whose label contains ``text``, as a person reads the list."""
    select.select_option(select.locator("option", has_text=text).first.get_attribute("value"))


def staff_page(site, story, user, lang="en"):
    """A browser signed in as ``user``: enrols an authenticator on first sign-in (the test keeps the key
    shown on the page, as a person types it into their app), then signs in with the app's codes."""
    page = story.__dict__.setdefault("contexts", {}).get(user.email)
    if page is not None:
        return page
    page = site_context(site, lang).new_page()
    sign_in(page, story, user)
    story.contexts[user.email] = page
    return page


def site_context(site, lang):
    return _new_context(lang)


def sign_in(page, story, user, password=PASSWORD):
    page.goto("/login/")
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Next").click()
    page.wait_for_load_state()
    secrets = story.__dict__.setdefault("secrets", {})
    used = story.used_steps.setdefault(user.email, set())
    if "/login/enrol/" in page.url:
        secrets[user.email] = page.locator("#secret").inner_text()
        screenshot(page, f"enrol-{user.email.split('@')[0]}")
        page.get_by_label("Code").fill(fresh_code(secrets[user.email], used))
        page.get_by_role("button", name="Confirm").click()
        page.wait_for_load_state()
        assert "/login/backup-codes/" in page.url, page.locator("main").inner_text()
        page.get_by_role("link", name="I have saved them").click()
    else:
        assert "/login/verify/" in page.url, page.locator("main").inner_text()
        page.get_by_label("Code").fill(fresh_code(secrets[user.email], used))
        page.get_by_role("button", name="Verify").click()
    page.wait_for_load_state()
    return page


def open_request(page, reference):
    """The queue, searched by reference, then the request."""
    page.goto("/admin/tickets/servicerequest/")
    page.get_by_role("searchbox").fill(reference)
    page.get_by_role("searchbox").press("Enter")
    page.get_by_role("link", name=reference).click()
    page.wait_for_load_state()
