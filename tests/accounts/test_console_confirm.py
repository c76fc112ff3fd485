"""Console actions that destroy or touch security ask first, on a page that works without JavaScript."""

import re
from html import unescape

import pytest

from accounts.models import Membership, Tenant, User
from audit.models import AuditEvent
from tests.accounts.test_console import GA, MEMBER, UA, client_for, snapshot, url
from tests.accounts.test_console import world as console_world  # noqa: F401  (a fixture, found by pytest)
from tests.conftest import emails_to


@pytest.fixture
def world(console_world):  # noqa: F811  (the imported fixture, by its name)
    """The console tests' world: two organisations, their admins and members."""
    return console_world


ON_USERS = {
    "deactivate": ("deactivate", {}),
    "reset_link": ("reset-password", {"mode": "link"}),
    "reset_temporary": ("reset-password", {"mode": "temporary"}),
    "reenrol": ("second-factor", {}),
    "role": ("role", {"role": UA}),
}


def confirm_form(html: str) -> str:
    match = re.search(r'<div class="col-lg-7" id="confirm">.*?</form>', html, re.S)
    assert match, "no confirmation page"
    return match.group(0)


@pytest.mark.parametrize("action", ON_USERS)
def test_the_users_page_leads_to_a_confirmation_page_not_to_the_action(world, action):
    browser = client_for(world.ga)
    path, data = ON_USERS[action]
    page = browser.get(url(world.a, "users")).content.decode()
    # Each button is a GET form to the confirmation page: nothing happens on one click.
    assert re.search(rf'<form method="get" action="{re.escape(url(world.a, path, world.target))}"', page)
    before = snapshot(world)
    for response in (browser.get(url(world.a, path, world.target), data), browser.post(url(world.a, path, world.target), data)):
        assert response.status_code == 200
        form = confirm_form(response.content.decode())
        assert world.target.email in form
        assert 'method="post"' in form and 'name="confirmed" value="1"' in form
        for name, value in data.items():
            assert f'name="{name}" value="{value}"' in form, "the choice is carried to the POST"
    assert snapshot(world) == before, "showing the confirmation changes nothing"
    done = browser.post(url(world.a, path, world.target), {**data, "confirmed": "1"})
    assert done.status_code in (200, 302)
    assert snapshot(world) != before


def test_the_confirmation_says_what_will_happen(world):
    browser = client_for(world.ga)
    temporary = confirm_form(browser.get(url(world.a, "reset-password", world.target), {"mode": "temporary"}).content.decode())
    assert "Set a temporary password for theo@fabrikam.example?" in temporary
    assert "Their current password stops working at once" in temporary
    deactivate = confirm_form(browser.get(url(world.a, "deactivate", world.target)).content.decode())
    assert "Deactivate theo@fabrikam.example?" in deactivate and "can no longer sign in" in deactivate
    role = confirm_form(browser.get(url(world.a, "role", world.target), {"role": UA}).content.decode())
    assert "User admin" in role and "Current role: Member" in role


def test_turning_self_service_reset_off_asks_first(world):
    Tenant.objects.filter(pk=world.a.pk).update(self_service_reset_enabled=True)
    browser = client_for(world.ga)
    response = browser.post(url(world.a, "settings"), {"phone_on_record": "+33 1 70 00 00 01"})
    form = confirm_form(response.content.decode())
    assert "Turn off self-service password reset?" in form
    assert 'name="phone_on_record" value="+33 1 70 00 00 01"' in form
    assert Tenant.objects.get(pk=world.a.pk).self_service_reset_enabled
    browser.post(url(world.a, "settings"), {"phone_on_record": "+33 1 70 00 00 01", "confirmed": "1"})
    assert not Tenant.objects.get(pk=world.a.pk).self_service_reset_enabled


def test_turning_self_service_reset_on_needs_no_confirmation(world):
    browser = client_for(world.ga)
    response = browser.post(url(world.a, "settings"), {"self_service_reset_enabled": "on", "phone_on_record": "+33 1 70 00 00 01"})
    assert response.status_code == 302 and Tenant.objects.get(pk=world.a.pk).self_service_reset_enabled


def test_the_reset_link_email_says_a_link_was_sent(world, deliver):
    User.objects.filter(pk=world.target.pk).update(alternate_email="theo.home@example.org")
    client_for(world.ga).post(url(world.a, "reset-password", world.target), {"mode": "link", "confirmed": "1"})
    deliver()
    (work,) = emails_to(world.target.email)
    assert work.subject == "An administrator sent you a link to reset your password"
    assert "sent you a link to choose a new password" in work.body and "reset your password" not in work.body.split("\n")[0]
    (home,) = emails_to("theo.home@example.org")
    assert home.subject == "An administrator sent you a link to reset your password"


def test_the_reset_link_email_subject_is_in_french_too(world, deliver):
    User.objects.filter(pk=world.target.pk).update(preferred_language="fr")
    client_for(world.ga).post(url(world.a, "reset-password", world.target), {"mode": "link", "confirmed": "1"})
    deliver()
    (work,) = emails_to(world.target.email)
    assert work.subject == "Un administrateur vous a envoyé un lien pour réinitialiser votre mot de passe"


def test_a_temporary_password_email_still_says_it_was_reset(world, deliver):
    client_for(world.ga).post(url(world.a, "reset-password", world.target), {"mode": "temporary", "confirmed": "1"})
    deliver()
    (work,) = emails_to(world.target.email)
    assert work.subject == "Your password was reset by an administrator"


def test_the_actions_cell_keeps_the_table_cells_intact(world):
    """display:flex on a <td> takes it out of the table's layout: the row's borders break."""
    page = client_for(world.ga).get(url(world.a, "users")).content.decode()
    assert not re.search(r'<td[^>]*class="[^"]*\bd-flex', page)


def test_the_audit_log_names_who_did_what_to_whom(world):
    browser = client_for(world.ga)
    browser.post(url(world.a, "reset-password", world.target), {"mode": "temporary", "confirmed": "1"})
    browser.post(url(world.a, "role", world.member), {"role": UA, "confirmed": "1"})
    page = browser.get(url(world.a, "audit")).content.decode()
    assert "{'mode'" not in page and "{}" not in page
    rows = [" ".join(unescape(re.sub(r"<[^>]+>", " ", r)).split()) for r in re.findall(r"<tr>(.*?)</tr>", page, re.S)]
    assert any("gloria@fabrikam.example Reset a user's password theo@fabrikam.example Sent a temporary password" in r for r in rows), (
        rows
    )
    assert any("maya@fabrikam.example Role: Member → User admin" in r for r in rows), rows
    french = browser.get(url(world.a, "audit"), HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "Sent a temporary password" not in french and "Role: Member" not in french
    assert AuditEvent.objects.filter(action="role.changed").exists() and Membership.objects.get(user=world.member).role == UA
    assert GA and MEMBER  # the roles the fixture gives
