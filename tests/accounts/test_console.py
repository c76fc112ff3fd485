"""The tenant console (/console/): who may do what, role rules, resets, invitations, settings and lists."""

import re
import threading
import time
from types import SimpleNamespace

import pytest
from django.contrib.messages import get_messages
from django.db import connection, transaction
from django.test import Client
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import Membership, Tenant, TenantDomain, User, UserSession
from accounts.services import console as console_services
from accounts.services.sessions import session_register
from audit.models import AuditEvent
from audit.services import Actor, RequestMeta, audit_event_record
from notifications.models import OutboxMessage
from tests import factories
from tests.conftest import emails_to, link_in, staff_client
from tests.factories import PASSWORD

GA, UA, MEMBER = Membership.Role.GLOBAL_ADMIN, Membership.Role.USER_ADMIN, Membership.Role.MEMBER
NEW_PASSWORD = "a brand new passphrase of mine 42"


# --- the world every test starts from ------------------------------------------------------------------------


def person(tenant, role, email, *, device=False, backup=False, **kwargs):
    user = factories.MembershipFactory(tenant=tenant, role=role, user=factories.UserFactory(email=email, **kwargs)).user
    if device:
        TOTPDevice.objects.create(user=user, name="authenticator app", confirmed=True)
    if backup:
        static = StaticDevice.objects.create(user=user, name="backup codes", confirmed=True)
        StaticToken.objects.create(device=static, token="backup-code-1")
    return user


def signed_in_elsewhere(user) -> Client:
    """Another browser of ``user``, with its session registered as the sign-in view does."""
    other = Client()
    other.force_login(user)
    session_register(user=user, session_key=other.session.session_key, meta=RequestMeta())
    return other


def still_signed_in(other: Client) -> bool:
    return other.get("/account/security/").status_code == 200


@pytest.fixture
def world(db):
    w = SimpleNamespace()
    w.a = factories.TenantFactory(legal_name="Fabrikam SARL", primary_domain="fabrikam.example", phone_on_record="+33 1 70 00 00 01")
    TenantDomain.objects.create(tenant=w.a, domain="fabrikam.fr")
    w.b = factories.TenantFactory(legal_name="Contoso SA", primary_domain="contoso.example", phone_on_record="+33 1 70 00 00 02")
    w.ga = person(w.a, GA, "gloria@fabrikam.example", device=True)
    w.ua = person(w.a, UA, "ulysse@fabrikam.example", device=True)
    w.member = person(w.a, MEMBER, "maya@fabrikam.example")  # members sign in with a password only
    w.target = person(w.a, MEMBER, "theo@fabrikam.example", device=True, backup=True)
    w.gb = person(w.b, GA, "bruno@contoso.example", device=True)
    w.b_member = person(w.b, MEMBER, "bea@contoso.example")
    w.agent = factories.agent(email="agent@support.example")
    factories.ServiceRequestFactory(tenant_on_record=w.a, tenant=w.a, reference="SR-FABR-0001")
    factories.ServiceRequestFactory(tenant_on_record=w.b, tenant=w.b, reference="SR-CONT-0001")
    audit_event_record(
        actor=Actor.system(), action="tenant.changed_by_support", target=w.a, tenant=w.a, after={"marker": "fabrikam.only"}
    )
    audit_event_record(
        actor=Actor.system(), action="tenant.changed_by_support", target=w.b, tenant=w.b, after={"marker": "contoso.only"}
    )
    w.target_browser = signed_in_elsewhere(w.target)
    return w


def client_for(user) -> Client:
    """A browser signed in as ``user``: with a verified second factor if they have one (as after /login/verify/)."""
    if user is None:
        return Client()
    if user.totpdevice_set.exists():
        return staff_client(Client(), user)
    browser = Client()
    browser.force_login(user)
    return browser


def url(tenant, name="", user=None):
    base = f"/console/{tenant.pk}/"
    if user is not None:
        return f"{base}users/{user.pk}/{name}/"
    return base + (f"{name}/" if name else "")


def snapshot(w):
    """Everything a console action could change."""
    return {
        "users": sorted(User.objects.values_list("email", "is_active", "password", "must_change_password")),
        "roles": sorted(Membership.objects.values_list("user__email", "tenant_id", "role")),
        "totp": sorted(TOTPDevice.objects.values_list("user__email", flat=True)),
        "static": sorted(StaticDevice.objects.values_list("user__email", flat=True)),
        "tenants": sorted(Tenant.objects.values_list("pk", "self_service_reset_enabled", "phone_on_record")),
        "user_sessions": sorted(UserSession.objects.values_list("session_key", flat=True)),
        "outbox": OutboxMessage.objects.count(),
        "audit": AuditEvent.objects.count(),
    }


def errors_shown(response) -> list[str]:
    """Error messages queued for the next page, or shown on this one (form errors)."""
    found = [str(m) for m in get_messages(response.wsgi_request) if m.level_tag == "error"]
    if response.status_code == 200:
        found += re.findall(r"alert-danger[^>]*>(.*?)</", response.content.decode(), re.S)
    return found


# --- the permission matrix -----------------------------------------------------------------------------------

ACTIONS = {
    "dashboard": lambda c, w: c.get(url(w.a)),
    "users": lambda c, w: c.get(url(w.a, "users")),
    "invite_get": lambda c, w: c.get(url(w.a, "users/invite")),
    "invite_post": lambda c, w: c.post(url(w.a, "users/invite"), {"email": "nina@fabrikam.example", "full_name": "Nina Neuve"}),
    "role": lambda c, w: c.post(url(w.a, "role", w.target), {"confirmed": "1", "role": UA}),
    "deactivate": lambda c, w: c.post(url(w.a, "deactivate", w.target), {"confirmed": "1"}),
    "reset_link": lambda c, w: c.post(url(w.a, "reset-password", w.target), {"confirmed": "1", "mode": "link"}),
    "reset_temporary": lambda c, w: c.post(url(w.a, "reset-password", w.target), {"confirmed": "1", "mode": "temporary"}),
    "reenrol": lambda c, w: c.post(url(w.a, "second-factor", w.target), {"confirmed": "1"}),
    "settings_get": lambda c, w: c.get(url(w.a, "settings")),
    "settings_post": lambda c, w: c.post(
        url(w.a, "settings"), {"self_service_reset_enabled": "on", "phone_on_record": "+33 1 70 00 00 99"}
    ),
    "service_requests": lambda c, w: c.get(url(w.a, "requests")),
    "audit": lambda c, w: c.get(url(w.a, "audit")),
}


def _page(response):
    return response.content.decode() if response.status_code == 200 else ""


def _target(w):
    return User.objects.get(pk=w.target.pk)


# What "it worked" looks like for each action (tenant A's data, and never tenant B's).
EFFECTS = {
    "dashboard": lambda r, w: "gloria@fabrikam.example" in _page(r) and "contoso" not in _page(r),
    "users": lambda r, w: "theo@fabrikam.example" in _page(r) and "contoso" not in _page(r),
    "invite_get": lambda r, w: 'name="email"' in _page(r),
    "invite_post": lambda r, w: (
        r.status_code == 302
        and Membership.objects.filter(tenant=w.a, role=MEMBER, user__email="nina@fabrikam.example", user__is_active=False).exists()
    ),
    "role": lambda r, w: Membership.objects.get(tenant=w.a, user=w.target).role == UA,
    "deactivate": lambda r, w: not _target(w).is_active,
    "reset_link": lambda r, w: OutboxMessage.objects.filter(
        template="password_reset_by_admin", to_email=w.target.email, secrets__has_key="reset_url"
    ).exists(),
    "reset_temporary": lambda r, w: 'id="temporary-password"' in _page(r) and _target(w).must_change_password,
    "reenrol": lambda r, w: (
        not TOTPDevice.objects.filter(user=w.target).exists() and not StaticDevice.objects.filter(user=w.target).exists()
    ),
    "settings_get": lambda r, w: "fabrikam.fr" in _page(r) and 'name="phone_on_record"' in _page(r),
    "settings_post": lambda r, w: Tenant.objects.filter(
        pk=w.a.pk, self_service_reset_enabled=True, phone_on_record="+33 1 70 00 00 99"
    ).exists(),
    "service_requests": lambda r, w: "SR-FABR-0001" in _page(r) and "SR-CONT-0001" not in _page(r),
    "audit": lambda r, w: "fabrikam.only" in _page(r) and "contoso.only" not in _page(r),
}

ACTORS = {
    "anonymous": lambda w: None,
    "member": lambda w: w.member,
    "staff": lambda w: w.agent,
    "other_tenant_admin": lambda w: w.gb,
    "user_admin": lambda w: w.ua,
    "global_admin": lambda w: w.ga,
}

EXPECTED = {
    "anonymous": dict.fromkeys(ACTIONS, "login"),
    "member": dict.fromkeys(ACTIONS, "forbidden"),
    "staff": dict.fromkeys(ACTIONS, "forbidden"),
    "other_tenant_admin": dict.fromkeys(ACTIONS, "forbidden"),
    # A user admin manages members, but cannot make anyone an admin nor change the tenant's settings.
    "user_admin": {**dict.fromkeys(ACTIONS, "allowed"), "role": "refused", "settings_post": "refused"},
    "global_admin": dict.fromkeys(ACTIONS, "allowed"),
}

CELLS = [(actor, action, EXPECTED[actor][action]) for actor in ACTORS for action in ACTIONS]


def outcome(action, response, w, before) -> str:
    unchanged = snapshot(w) == before
    location = response.get("Location", "")
    if response.status_code == 302 and location.startswith("/login/?next=/console/") and unchanged:
        return "login"
    if response.status_code == 403 and unchanged:
        return "forbidden"
    if unchanged and errors_shown(response):
        return "refused"
    if EFFECTS[action](response, w):
        return "allowed"
    return f"status {response.status_code} {location} unchanged={unchanged} errors={errors_shown(response)}"


@pytest.mark.parametrize("actor,action,expected", CELLS, ids=[f"{a}-{b}" for a, b, _ in CELLS])
def test_permission_matrix(world, actor, action, expected):
    browser = client_for(ACTORS[actor](world))
    before = snapshot(world)
    response = ACTIONS[action](browser, world)
    assert outcome(action, response, world, before) == expected


ON_USERS = ["role", "deactivate", "reset_link", "reset_temporary", "reenrol"]


@pytest.mark.parametrize("target", ["global_admin", "other_user_admin"])
@pytest.mark.parametrize("action", ON_USERS)
def test_user_admin_is_refused_on_admins(world, action, target):
    world.target = world.ga if target == "global_admin" else person(world.a, UA, "ursula@fabrikam.example", device=True, backup=True)
    browser = client_for(world.ua)
    before = snapshot(world)
    response = (
        browser.post(url(world.a, "role", world.target), {"confirmed": "1", "role": MEMBER})
        if action == "role"
        else ACTIONS[action](browser, world)
    )
    assert response.status_code == 302 and errors_shown(response) and snapshot(world) == before, outcome(
        action, response, world, before
    )


@pytest.mark.parametrize("action", ON_USERS)
def test_other_tenant_admin_cannot_reach_a_user_through_its_own_urls(world, action):
    browser = client_for(world.gb)
    before = snapshot(world)
    paths = {
        "role": "role",
        "deactivate": "deactivate",
        "reset_link": "reset-password",
        "reset_temporary": "reset-password",
        "reenrol": "second-factor",
    }
    data = {"role": {"role": GA}, "reset_link": {"mode": "link"}, "reset_temporary": {"mode": "temporary"}}
    response = browser.post(url(world.b, paths[action], world.target), data.get(action, {}))
    # Bruno is an admin of B, so B's console lets him in; Theo is no member of B, so there is no such user there.
    assert response.status_code == 404 and snapshot(world) == before
    assert "theo@fabrikam.example" not in response.content.decode()
    nobody = SimpleNamespace(pk=User.objects.order_by("-pk").first().pk + 1000)
    unknown = browser.post(url(world.b, paths[action], nobody), data.get(action, {}))

    def page(r, user):  # the page less what differs on every response: the CSRF token, and the path typed
        body = re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", r.content.decode())
        return body.replace(f"/users/{user.pk}/", "/users/ID/")

    assert unknown.status_code == 404
    assert page(response, world.target) == page(unknown, nobody), "a user of another tenant looks like no user at all"


def test_other_tenant_admin_sees_only_its_own_tenant(world):
    browser = client_for(world.gb)
    for name in ("", "users", "audit", "requests", "settings"):
        page = browser.get(url(world.b, name)).content.decode()
        assert "fabrikam" not in page.lower() and "SR-FABR-0001" not in page, name
    assert "bea@contoso.example" in browser.get(url(world.b, "users")).content.decode()
    assert browser.get(url(world.b, "users"), {"q": "theo"}).content.decode().count("theo@") == 0


def test_admin_without_a_verified_second_factor_is_sent_to_sign_in(world):
    browser = Client()
    browser.force_login(world.ga)  # password accepted, second factor not (yet) verified
    before = snapshot(world)
    response = browser.get(url(world.a))
    assert response.status_code == 302 and response["Location"].startswith("/login/")
    assert browser.post(url(world.a, "deactivate", world.target), {"confirmed": "1"}).status_code == 302
    assert snapshot(world) == before
    # ...and the sign-in page opens (no redirect loop back to the console).
    page = browser.get(response["Location"])
    assert page.status_code == 200 and 'name="password"' in page.content.decode()


def test_console_home_sends_an_admin_to_their_tenant(world):
    assert client_for(world.ga).get("/console/")["Location"] == url(world.a)
    assert client_for(world.member).get("/console/").status_code == 403


# --- role rules ------------------------------------------------------------------------------------------------


def test_global_admin_makes_and_removes_a_global_admin(world, deliver):
    browser = client_for(world.ga)
    browser.post(url(world.a, "role", world.target), {"confirmed": "1", "role": GA})
    assert Membership.objects.get(tenant=world.a, user=world.target).role == GA
    browser.post(url(world.a, "role", world.target), {"confirmed": "1", "role": MEMBER})
    assert Membership.objects.get(tenant=world.a, user=world.target).role == MEMBER
    assert AuditEvent.objects.filter(action="role.changed", tenant=world.a).count() == 2


@pytest.mark.parametrize("role", [GA, UA])
def test_user_admin_cannot_make_an_admin(world, role):
    browser = client_for(world.ua)
    response = browser.post(url(world.a, "role", world.target), {"confirmed": "1", "role": role})
    assert Membership.objects.get(tenant=world.a, user=world.target).role == MEMBER
    assert errors_shown(response) == ["Only a global admin can make or remove admins."]


def test_user_admin_cannot_demote_a_global_admin_nor_promote_themself(world):
    browser = client_for(world.ua)
    browser.post(url(world.a, "role", world.ga), {"confirmed": "1", "role": MEMBER})
    browser.post(url(world.a, "role", world.ua), {"confirmed": "1", "role": GA})
    assert dict(Membership.objects.filter(tenant=world.a).values_list("user__email", "role")) == {
        "gloria@fabrikam.example": GA,
        "ulysse@fabrikam.example": UA,
        "maya@fabrikam.example": MEMBER,
        "theo@fabrikam.example": MEMBER,
    }


def test_the_last_active_global_admin_cannot_be_demoted(world):
    browser = client_for(world.ga)
    response = browser.post(url(world.a, "role", world.ga), {"confirmed": "1", "role": UA})
    assert Membership.objects.get(tenant=world.a, user=world.ga).role == GA
    assert errors_shown(response) == ["This is the last active global admin: make someone else global admin first."]


def test_an_inactive_global_admin_does_not_count_as_another_one(world):
    person(world.a, GA, "ralph@fabrikam.example", is_active=False)  # a global admin who has left
    response = client_for(world.ga).post(url(world.a, "role", world.ga), {"confirmed": "1", "role": MEMBER})
    assert Membership.objects.get(tenant=world.a, user=world.ga).role == GA
    assert "last active global admin" in " ".join(errors_shown(response))


def test_the_last_active_global_admin_cannot_be_deactivated(world):
    response = client_for(world.ga).post(url(world.a, "deactivate", world.ga), {"confirmed": "1"})
    assert User.objects.get(pk=world.ga.pk).is_active
    assert errors_shown(response), "a clear message says why"


def test_with_two_global_admins_one_may_step_down(world):
    person(world.a, GA, "gaston@fabrikam.example", device=True)
    client_for(world.ga).post(url(world.a, "role", world.ga), {"confirmed": "1", "role": MEMBER})
    assert Membership.objects.get(tenant=world.a, user=world.ga).role == MEMBER


def test_a_global_admin_deactivates_another_global_admin_and_everyone_is_told(world, deliver):
    second = person(world.a, GA, "gaston@fabrikam.example", device=True)
    other = signed_in_elsewhere(second)
    client_for(world.ga).post(url(world.a, "deactivate", second), {"confirmed": "1"})
    assert not User.objects.get(pk=second.pk).is_active
    assert not still_signed_in(other)
    assert AuditEvent.objects.filter(action="user.deactivated", target_id=str(second.pk)).exists()
    deliver()
    assert emails_to(world.ua.email) and not emails_to(world.gb.email)


def test_a_role_change_tells_the_person_and_the_other_admins_and_is_audited(world, deliver):
    second = person(world.a, GA, "gaston@fabrikam.example", device=True)
    client_for(world.ga).post(url(world.a, "role", world.target), {"confirmed": "1", "role": UA})
    event = AuditEvent.objects.get(action="role.changed", tenant=world.a)
    assert (event.actor, event.before["role"], event.after["role"]) == (world.ga, MEMBER, UA)
    deliver()
    to_person = emails_to(world.target.email)
    assert len(to_person) == 1 and "changed your role" in to_person[0].body
    for admin in (second, world.ua):
        mails = emails_to(admin.email)
        assert len(mails) == 1 and world.target.email in mails[0].subject, admin.email
    assert not emails_to(world.member.email) and not emails_to(world.gb.email)


# --- password resets -----------------------------------------------------------------------------------------


def test_reset_link_is_site_url_based_and_works_once(world, deliver, settings):
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "evil.example"]
    browser = client_for(world.ga)
    response = browser.post(url(world.a, "reset-password", world.target), {"confirmed": "1", "mode": "link"}, HTTP_HOST="evil.example")
    assert response.status_code == 302
    assert not still_signed_in(world.target_browser), "the user's sessions end"
    deliver()
    (message,) = emails_to(world.target.email)
    link = link_in(message, "/account/set-password/")
    assert link.startswith(settings.SITE_URL + "/account/set-password/") and "evil.example" not in message.body
    assert AuditEvent.objects.filter(action="password.reset_by_admin", after__mode="link").exists()

    path = link[len(settings.SITE_URL) :]
    stranger = Client()
    form_page = stranger.get(path, follow=True)
    assert form_page.context["validlink"]
    done = stranger.post(form_page.redirect_chain[-1][0], {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert done.status_code == 302
    assert User.objects.get(pk=world.target.pk).check_password(NEW_PASSWORD)
    again = Client().get(path, follow=True)
    assert not again.context["validlink"], "the link works once"


def test_temporary_password_is_shown_once_and_must_be_changed(world, deliver):
    browser = client_for(world.ga)
    response = browser.post(url(world.a, "reset-password", world.target), {"confirmed": "1", "mode": "temporary"})
    password = re.search(r'id="temporary-password">([^<]+)<', response.content.decode()).group(1).strip()
    target = User.objects.get(pk=world.target.pk)
    assert len(password) >= 16 and target.check_password(password) and target.must_change_password
    assert not still_signed_in(world.target_browser), "all the user's sessions end"
    assert not UserSession.objects.filter(user=target).exists()
    assert password not in browser.get(url(world.a, "users")).content.decode(), "shown once"
    assert not any(password in str(m.context) + str(m.secrets) for m in OutboxMessage.objects.all())
    assert not any(password in str(e.before) + str(e.after) for e in AuditEvent.objects.all())
    deliver()
    assert password not in emails_to(world.target.email)[0].body


def test_temporary_password_signs_in_once_and_asks_for_a_new_one(world):
    page = client_for(world.ua).post(url(world.a, "reset-password", world.member), {"confirmed": "1", "mode": "temporary"})
    password = re.search(r'id="temporary-password">([^<]+)<', page.content.decode()).group(1).strip()
    person_ = Client()
    response = person_.post("/login/", {"email": world.member.email, "password": password})
    assert response.status_code == 302 and response["Location"] == "/account/security/"
    assert "choose your own now" in person_.get("/account/security/").content.decode()


def test_temporary_passwords_differ(world):
    browser = client_for(world.ga)
    seen = {
        re.search(
            r'id="temporary-password">([^<]+)<',
            browser.post(url(world.a, "reset-password", world.target), {"confirmed": "1", "mode": "temporary"}).content.decode(),
        ).group(1)
        for _ in range(3)
    }
    assert len(seen) == 3


def test_an_admin_never_chooses_the_password(world):
    browser = client_for(world.ga)
    page = browser.get(url(world.a, "users")).content.decode()
    assert 'type="password"' not in page and 'name="password"' not in page
    before = User.objects.get(pk=world.target.pk).password
    browser.post(url(world.a, "reset-password", world.target), {"confirmed": "1", "mode": "chosen", "password": "chosen-by-admin-123"})
    target = User.objects.get(pk=world.target.pk)
    assert target.password == before and not target.check_password("chosen-by-admin-123")


# --- second factor -------------------------------------------------------------------------------------------


def test_require_reenrolment_removes_totp_and_backup_devices(world, deliver):
    other = person(world.a, MEMBER, "olga@fabrikam.example", device=True, backup=True)
    response = client_for(world.ua).post(url(world.a, "second-factor", world.target), {"confirmed": "1"})
    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=world.target).exists()
    assert not StaticDevice.objects.filter(user=world.target).exists()
    assert not StaticToken.objects.filter(device__user=world.target).exists()
    assert TOTPDevice.objects.filter(user=other).exists() and StaticDevice.objects.filter(user=other).exists()
    assert not still_signed_in(world.target_browser)
    assert AuditEvent.objects.filter(action="second_factor.reset_by_admin", target_id=str(world.target.pk)).exists()
    deliver()
    assert "Set up your second factor again" in emails_to(world.target.email)[0].subject


# --- invitations ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("email", ["nina@contoso.example", "nina@fabrikam.example.evil.com", "nina@notfabrikam.example"])
def test_invite_refuses_an_email_outside_the_verified_domains(world, email):
    response = client_for(world.ga).post(url(world.a, "users/invite"), {"email": email, "full_name": "Nina"})
    assert response.status_code == 200 and "is not on a verified domain" in response.content.decode()
    assert not User.objects.filter(email=email).exists()


@pytest.mark.parametrize("email", ["MAYA@fabrikam.example", "zoe@fabrikam.fr"])
def test_invite_refuses_an_existing_email(world, email):
    factories.UserFactory(email="zoe@fabrikam.fr")  # an account on the domain, but in no tenant
    before = snapshot(world)
    response = client_for(world.ga).post(url(world.a, "users/invite"), {"email": email, "full_name": "Maya"})
    assert response.status_code == 200 and snapshot(world) == before
    assert "An account with this email already exists." in response.content.decode()


def test_invitation_link_works_once_and_activates_the_member(world, deliver, settings):
    browser = client_for(world.ua)
    response = browser.post(url(world.a, "users/invite"), {"email": "Nina@Fabrikam.FR", "full_name": "Nina Neuve"})
    assert response.status_code == 302
    nina = User.objects.get(email="nina@fabrikam.fr")
    assert not nina.is_active and not nina.has_usable_password()
    assert Membership.objects.get(user=nina).tenant == world.a
    assert AuditEvent.objects.filter(action="user.invited", target_id=str(nina.pk)).exists()
    deliver()
    link = link_in(emails_to("nina@fabrikam.fr")[0], "/account/set-password/")
    assert link.startswith(settings.SITE_URL)
    path = link[len(settings.SITE_URL) :]
    invited = Client()
    form_page = invited.get(path, follow=True)
    assert form_page.context["validlink"]
    invited.post(form_page.redirect_chain[-1][0], {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    nina.refresh_from_db()
    assert nina.is_active and nina.check_password(NEW_PASSWORD)
    assert not Client().get(path, follow=True).context["validlink"], "the invitation link works once"


# --- settings ------------------------------------------------------------------------------------------------


def test_global_admin_turns_self_service_reset_on_and_off(world):
    browser = client_for(world.ga)
    browser.post(url(world.a, "settings"), {"self_service_reset_enabled": "on", "phone_on_record": "+33 1 70 00 00 01"})
    assert Tenant.objects.get(pk=world.a.pk).self_service_reset_enabled
    browser.post(url(world.a, "settings"), {"confirmed": "1", "phone_on_record": "+33 1 70 00 00 01"})
    assert not Tenant.objects.get(pk=world.a.pk).self_service_reset_enabled
    assert AuditEvent.objects.filter(action="tenant.settings_changed").count() == 2
    assert not OutboxMessage.objects.filter(template="phone_changed").exists(), "the phone did not change"


def test_phone_change_tells_every_admin_and_is_audited(world, deliver):
    second = person(world.a, GA, "gaston@fabrikam.example", device=True)
    client_for(world.ga).post(url(world.a, "settings"), {"confirmed": "1", "phone_on_record": "+33 1 70 00 00 99"})
    assert Tenant.objects.get(pk=world.a.pk).phone_on_record == "+33 1 70 00 00 99"
    event = AuditEvent.objects.get(action="tenant.settings_changed")
    assert (event.before["phone_on_record"], event.after["phone_on_record"]) == ("+33 1 70 00 00 01", "+33 1 70 00 00 99")
    deliver()
    for admin in (world.ga, second, world.ua):
        mails = emails_to(admin.email)
        assert len(mails) == 1 and "+33 1 70 00 00 99" in mails[0].body, admin.email
    assert not emails_to(world.member.email) and not emails_to(world.gb.email)


def test_domains_are_shown_read_only(world):
    browser = client_for(world.ga)
    page = browser.get(url(world.a, "settings")).content.decode()
    domains = page.split('id="domains"')[1].split("</ul>")[0]
    assert "fabrikam.example" in domains and "fabrikam.fr" in domains
    assert "<input" not in domains and 'name="domain' not in page
    browser.post(
        url(world.a, "settings"), {"phone_on_record": "+33 1 70 00 00 01", "primary_domain": "evil.example", "domains": "evil.example"}
    )
    assert Tenant.objects.get(pk=world.a.pk).all_domains == ["fabrikam.example", "fabrikam.fr"]


# --- lists -----------------------------------------------------------------------------------------------------


def test_users_list_pages_and_search(world):
    for n in range(30):
        person(world.a, MEMBER, f"bulk{n:02d}@fabrikam.example", full_name=f"Bulk Person {n:02d}")
    browser = client_for(world.ga)
    first = browser.get(url(world.a, "users")).content.decode()
    second = browser.get(url(world.a, "users"), {"page": 2}).content.decode()
    on_first = re.findall(r"[\w.]+@fabrikam\.example(?=</small>)", first)
    on_second = re.findall(r"[\w.]+@fabrikam\.example(?=</small>)", second)
    assert "1 / 2" in first and "2 / 2" in second and (len(on_first), len(on_second)) == (25, 34 - 25)
    assert len(set(on_first) | set(on_second)) == 34
    found = browser.get(url(world.a, "users"), {"q": "Person 17"}).content.decode()
    assert re.findall(r"[\w.]+@fabrikam\.example(?=</small>)", found) == ["bulk17@fabrikam.example"]
    assert "bulk17@fabrikam.example" in browser.get(url(world.a, "users"), {"q": "BULK17@"}).content.decode()


def test_audit_log_filters_by_action(world):
    browser = client_for(world.ga)
    browser.post(url(world.a, "role", world.target), {"confirmed": "1", "role": UA})
    browser.post(url(world.a, "second-factor", world.member), {"confirmed": "1"})
    everything = browser.get(url(world.a, "audit")).content.decode()
    rows = everything.split("<tbody>")[1]
    assert "Changed a role" in rows and "Required a new second factor" in rows, "each action read as a sentence"
    assert '<option value="role.changed" >Changed a role</option>' in everything
    rows = browser.get(url(world.a, "audit"), {"action": "role.changed"}).content.decode().split("<tbody>")[1]
    assert "Changed a role" in rows and "Required a new second factor" not in rows and "fabrikam.only" not in rows
    other_tenant = browser.get(url(world.a, "audit"), {"action": "tenant.changed_by_support"}).content.decode()
    assert "contoso.only" not in other_tenant.split("<tbody>")[1]

    french = browser.get(url(world.a, "audit"), HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "A modifié un rôle" in french.split("<tbody>")[1], "and in the reader's language"


# --- two global admins demoting each other at the same moment -------------------------------------------------


def test_two_global_admins_demoting_each_other_at_once_leave_one(transactional_db, private_broker):
    tenant = factories.TenantFactory()
    first = person(tenant, GA, f"first@{tenant.primary_domain}")
    second = person(tenant, GA, f"second@{tenant.primary_domain}")
    results = {}

    def demote(actor, target):
        try:
            console_services.console_set_role(actor=Actor(kind="user", user=actor), tenant=tenant, user=target, role=MEMBER)
            results[actor.email] = "demoted"
        except console_services.ConsoleError as exc:
            results[actor.email] = str(exc.message)
        except Exception as exc:  # noqa: BLE001  (reported with the assertion)
            results[actor.email] = repr(exc)
        finally:
            connection.close()

    # Hold the audit table so that both changes reach their last write before either commits.
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"LOCK TABLE {AuditEvent._meta.db_table} IN EXCLUSIVE MODE")
        threads = [threading.Thread(target=demote, args=pair) for pair in ((first, second), (second, first))]
        for t in threads:
            t.start()
        both_waiting, deadline = False, time.monotonic() + 10
        while not both_waiting and time.monotonic() < deadline:
            cursor.execute("SELECT pg_stat_clear_snapshot()")  # else the view is frozen for the transaction
            cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'")
            both_waiting = cursor.fetchone()[0] >= 2
            time.sleep(0.05)
    for t in threads:
        t.join(30)

    assert both_waiting, "the two changes did not both get under way"

    assert Membership.objects.filter(tenant=tenant, role=GA).count() == 1, results
    assert sorted(results.values()) == ["This is the last active global admin: make someone else global admin first.", "demoted"], (
        results
    )


def test_a_reset_is_announced_on_the_alternate_address_without_the_link(world, deliver):
    world.target.alternate_email = "theo@home.example"
    world.target.save(update_fields=["alternate_email"])
    client_for(world.ga).post(url(world.a, "reset-password", world.target), {"confirmed": "1", "mode": "link"})
    deliver()
    notice = emails_to("theo@home.example")
    assert len(notice) == 1
    assert "sent a link to choose a new password" in notice[0].body and "/account/set-password/" not in notice[0].body
    assert "/account/set-password/" in emails_to("theo@fabrikam.example")[-1].body


def test_choosing_the_same_role_changes_nothing(world):
    browser = client_for(world.ga)
    browser.post(url(world.a, "role", world.target), {"confirmed": "1", "role": MEMBER})
    page = browser.get(url(world.a, "users")).content.decode()
    assert "already has this role" in page
    assert not AuditEvent.objects.filter(action="role.changed", tenant=world.a).exists()


def test_a_frozen_account_is_unfrozen_by_an_admin(world, deliver):
    from portal.clock import now

    User.objects.filter(pk=world.target.pk).update(frozen_at=now())
    browser = client_for(world.ga)
    assert "Frozen" in browser.get(url(world.a, "users")).content.decode()
    assert client_for(world.member).post(url(world.a, "unfreeze", world.target)).status_code == 403
    browser.post(url(world.a, "unfreeze", world.target))
    world.target.refresh_from_db()
    assert world.target.frozen_at is None
    assert AuditEvent.objects.filter(action="account.unfrozen", tenant=world.a).exists()


def test_a_role_change_signs_the_person_out_everywhere(world):
    assert world.target_browser.get("/account/security/").status_code == 200
    client_for(world.ga).post(url(world.a, "role", world.target), {"confirmed": "1", "role": UA})
    assert world.target_browser.get("/account/security/").status_code == 302


def test_self_service_reset_for_selected_users_only(world, deliver):
    from accounts.services.reset import user_may_self_reset

    browser = client_for(world.ga)
    browser.post(
        url(world.a, "settings"),
        {"self_service_reset_enabled": "on", "self_service_reset_scope": "selected", "phone_on_record": world.a.phone_on_record},
    )
    world.a.refresh_from_db()
    assert world.a.self_service_reset_scope == "selected"
    assert not user_may_self_reset(world.target)
    assert "Allow self-service reset" in browser.get(url(world.a, "users")).content.decode()
    browser.post(url(world.a, "self-service-reset", world.target), {"allowed": "1"})
    assert user_may_self_reset(world.target)
    assert not user_may_self_reset(world.member)


def test_an_admin_unlocks_a_locked_account(world):
    """Locked: 100 wrong passwords in a row, so sign-in is refused from networks the owner never used."""
    User.objects.filter(pk=world.target.pk).update(failed_login_count=100)
    stranger_network = {"REMOTE_ADDR": "203.0.113.5"}
    assert Client().post("/login/", {"email": world.target.email, "password": PASSWORD}, **stranger_network).status_code == 200
    browser = client_for(world.ga)
    page = browser.get(url(world.a, "users")).content.decode()
    assert "Locked" in page and "Unlock" in page
    browser.post(url(world.a, "unfreeze", world.target))
    world.target.refresh_from_db()
    assert world.target.failed_login_count == 0 and world.target.signin_throttle_lifted_at is not None
    assert "Locked" not in browser.get(url(world.a, "users")).content.decode()
    assert Client().post("/login/", {"email": world.target.email, "password": PASSWORD}, **stranger_network).status_code == 302


def test_an_admin_cannot_take_over_someone_who_belongs_to_another_organisation(world):
    """A's global admin is also a member of B: B's admin must not reset their password or factor."""
    factories.MembershipFactory(user=world.ga, tenant=world.b, role=MEMBER)
    before = snapshot(world)
    browser = client_for(world.gb)
    for action, data in (
        ("reset-password", {"mode": "temporary", "confirmed": "1"}),
        ("second-factor", {"confirmed": "1"}),
        ("deactivate", {"confirmed": "1"}),
    ):
        page = browser.post(url(world.b, action, world.ga), data, follow=True).content.decode()
        assert "also belongs to another organisation" in page
    assert snapshot(world) == before


def test_deactivation_voids_a_set_password_link_already_sent(world, deliver):
    browser = client_for(world.ga)
    browser.post(url(world.a, "reset-password", world.target), {"confirmed": "1", "mode": "link"})
    deliver()
    link = link_in(emails_to(world.target.email)[-1], "/account/set-password/")
    browser.post(url(world.a, "deactivate", world.target), {"confirmed": "1"})
    stranger = Client()
    page = stranger.get(link, follow=True).content.decode()
    assert "not valid" in page
    world.target.refresh_from_db()
    assert not world.target.is_active


def test_the_console_audit_log_hides_support_notes(world):
    from tickets.models import ServiceRequest

    sr = ServiceRequest.objects.get(reference="SR-FABR-0001")
    audit_event_record(
        actor=Actor.system(), action="check.recorded", target=sr, tenant=world.a, after={"note": "CFO does not know this person"}
    )
    page = client_for(world.ga).get(url(world.a, "audit")).content.decode()
    assert "CFO does not know" not in page and "check.recorded" not in page


def test_an_admin_without_a_verified_factor_is_sent_to_sign_in_not_in_a_loop(world):
    browser = Client()
    browser.force_login(world.ga)
    response = browser.get("/console/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")
    assert browser.get(response["Location"]).status_code == 200


def test_the_users_page_costs_the_same_queries_for_3_or_30_users(world):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    browser = client_for(world.ga)
    browser.get(url(world.a, "users"))  # the first page after sign-in records the session's times (once a minute at most)
    with CaptureQueriesContext(connection) as few:
        assert browser.get(url(world.a, "users")).status_code == 200
    for n in range(27):
        person(world.a, MEMBER, f"extra{n}@fabrikam.example")
    with CaptureQueriesContext(connection) as many:
        assert browser.get(url(world.a, "users")).status_code == 200
    assert len(many) == len(few)


def test_a_temporary_password_must_be_changed_before_anything_else(world):
    page = client_for(world.ga).post(url(world.a, "reset-password", world.target), {"confirmed": "1", "mode": "temporary"})
    temporary = re.search(r'id="temporary-password">([^<]+)<', page.content.decode()).group(1)
    TOTPDevice.objects.filter(user=world.target).delete()
    StaticDevice.objects.filter(user=world.target).delete()
    browser = Client()
    assert browser.post("/login/", {"email": world.target.email, "password": temporary}).status_code == 302
    assert browser.get("/requests/new/")["Location"] == "/account/security/"
    assert browser.get("/account/security/").status_code == 200
