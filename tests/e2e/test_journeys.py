"""Every journey, start to finish, in a real browser: a person clicks, types and reads their email.

The journeys are one story, in order (each is its own test): the requester files (1), an agent checks and
proposes (2), a supervisor approves and the waiting period passes (3), the new admin sets up the console
(4), one of the company's users resets their password (5), and everything that goes wrong on the way (6).
Only the starting fixtures are written to the database; everything else goes through the pages.
"""

import pytest
from django.contrib.auth.models import Group

from accounts.models import Membership
from tests import factories
from tickets.selectors import AGENTS_GROUP, SUPERVISORS_GROUP

from .conftest import screenshot
from .people import by_name, by_text, captcha_answer, fresh_code, tab_to, type_into

DOMAIN = "fabrikam.example"
REQUESTER = f"claire@{DOMAIN}"
NEW_ADMIN = f"luc@{DOMAIN}"
FORMER = f"marc@{DOMAIN}"
MEMBER = f"zoe@{DOMAIN}"
MEMBER_ALTERNATE = "zoe.personal@example.net"


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
    member = factories.UserFactory(email=MEMBER, full_name="Zoé Petit")
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
    with page.expect_file_chooser() as chooser:
        page.keyboard.press("Space")
    chooser.value.set_files(str(story.files / "id-card.pdf"))
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
    reference = page.locator("main").inner_text()
    print(reference)
