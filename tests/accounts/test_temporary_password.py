"""A temporary password (the console's, seen by the admin who set it) allows one thing: choosing one's own."""

import re

import pytest
from django.test import Client

from accounts.models import Membership
from accounts.services.console import console_reset_password
from audit.models import AuditEvent
from audit.services import Actor, ActorKind

from .signin_helpers import form_errors, member, tenant_admin, text

SECURITY = "/account/security/"
FIRST = "You signed in with a temporary password: choose your own password first. Until then, nothing else can be changed here."
OWN = "lantern orchard violet harbour"


@pytest.fixture
def with_temporary(db):
    """A member whose admin just gave them a temporary password; signed in with it."""
    admin = tenant_admin(Membership.Role.GLOBAL_ADMIN)
    tenant = admin.memberships.get().tenant
    user = member(email="ana@fabrikam.example", alternate_email="ana.home@mail.example")
    user.memberships.update(tenant=tenant)
    temporary = console_reset_password(actor=Actor(kind=ActorKind.USER, user=admin), tenant=tenant, user=user, mode="temporary")
    browser = Client()
    assert browser.post("/login/", {"email": user.email, "password": temporary})["Location"] == SECURITY
    return user, temporary, browser


def _post(browser, action, temporary, **fields):
    return browser.post(
        SECURITY, {"action": action, f"{action}-current_password": temporary, **{f"{action}-{k}": v for k, v in fields.items()}}
    )


@pytest.mark.parametrize(
    ("action", "fields"),
    [("recovery", {"alternate_email": "outsider@evil.example", "alternate_phone": ""}), ("backup_codes", {}), ("second_factor", {})],
)
def test_nothing_but_the_password_can_be_changed_with_a_temporary_password(with_temporary, action, fields):
    user, temporary, browser = with_temporary
    response = _post(browser, action, temporary, **fields)
    assert response.status_code == 200 and FIRST in text(response), text(response)[:2000]
    user.refresh_from_db()
    assert user.alternate_email == "ana.home@mail.example"
    assert not AuditEvent.objects.filter(target_id=str(user.pk), action__startswith="security.").exists()
    assert not user.totpdevice_set.exists() and not user.staticdevice_set.exists()
    assert browser.get("/account/security/authenticator/")["Location"] == SECURITY


def test_the_temporary_password_cannot_be_kept(with_temporary):
    user, temporary, browser = with_temporary
    response = _post(browser, "password", temporary, new_password=temporary)
    assert "the temporary one your administrator gave you cannot be kept" in form_errors(response)
    user.refresh_from_db()
    assert user.must_change_password, "still to change"
    assert browser.get("/requests/new/")["Location"] == SECURITY


def test_once_the_password_is_their_own_the_rest_opens(with_temporary):
    user, temporary, browser = with_temporary
    assert _post(browser, "password", temporary, new_password=OWN).status_code == 302
    user.refresh_from_db()
    assert not user.must_change_password and user.check_password(OWN)
    moved = _post(browser, "recovery", OWN, alternate_email="ana.new@mail.example", alternate_phone="")
    assert moved.status_code == 302
    user.refresh_from_db()
    assert user.alternate_email == "ana.new@mail.example"
    assert re.search("Your recovery contacts are saved", text(browser.get(SECURITY)))
