"""Support's edits of tenants and users in the admin are audited, and a new phone on record is told."""

import pytest
from django.test import Client

from accounts.models import Membership, Tenant, User
from audit.models import AuditEvent
from notifications.models import OutboxMessage
from tests import factories
from tests.conftest import staff_client


def test_a_superuser_changing_the_phone_on_record_is_audited_and_told(client, db):
    admin_user = factories.UserFactory(is_staff=True, is_superuser=True)
    from django_otp.plugins.otp_totp.models import TOTPDevice

    TOTPDevice.objects.create(user=admin_user, name="x", confirmed=True)
    staff_client(client, admin_user)
    tenant = factories.TenantFactory(phone_on_record="+33 1 00 00 00 01")
    ga = factories.MembershipFactory(tenant=tenant, role=Membership.Role.GLOBAL_ADMIN).user
    url = f"/admin/accounts/tenant/{tenant.pk}/change/"
    page = client.get(url)
    assert page.status_code == 200
    data = {
        "legal_name": tenant.legal_name,
        "partner_id": tenant.partner_id,
        "country": "FR",
        "postal_address": tenant.postal_address,
        "phone_on_record": "+33 6 66 66 66 66",
        "primary_domain": tenant.primary_domain,
        "self_service_reset_scope": "all",
        "other_domains-TOTAL_FORMS": "1",
        "other_domains-INITIAL_FORMS": "0",
        "other_domains-0-domain": "new-domain.example",
        "memberships-TOTAL_FORMS": "1",
        "memberships-INITIAL_FORMS": "1",
        "memberships-0-id": Membership.objects.get(tenant=tenant).pk,
        "memberships-0-tenant": tenant.pk,
    }
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    event = AuditEvent.objects.get(action="tenant.changed_by_support")
    assert event.after["phone_on_record"] == "+33 6 66 66 66 66"
    assert event.after["other_domains"] == ["new-domain.example"]
    assert OutboxMessage.objects.filter(template="phone_changed", to_email=ga.email).exists()
    assert Tenant.objects.get(pk=tenant.pk).phone_on_record == "+33 6 66 66 66 66"


def test_making_someone_staff_is_audited(client, db):
    admin_user = factories.UserFactory(is_staff=True, is_superuser=True)
    from django_otp.plugins.otp_totp.models import TOTPDevice

    TOTPDevice.objects.create(user=admin_user, name="x", confirmed=True)
    staff_client(client, admin_user)
    user = factories.UserFactory(email="new.agent@support.example")
    data = {
        "email": user.email,
        "full_name": user.full_name,
        "preferred_language": "en",
        "is_active": "on",
        "is_staff": "on",
        "date_joined_0": "2026-01-01",
        "date_joined_1": "00:00:00",
        "memberships-TOTAL_FORMS": "0",
        "memberships-INITIAL_FORMS": "0",
    }
    response = client.post(f"/admin/accounts/user/{user.pk}/change/", data)
    assert response.status_code == 302, response.content.decode()[:3000]
    assert User.objects.get(pk=user.pk).is_staff
    event = AuditEvent.objects.get(action="user.changed_by_support")
    assert event.before["is_staff"] is False and event.after["is_staff"] is True


def test_a_password_set_in_the_admin_is_audited_and_ends_sessions(client, db):
    from django.test import Client
    from django_otp.plugins.otp_totp.models import TOTPDevice

    admin_user = factories.UserFactory(is_staff=True, is_superuser=True)
    TOTPDevice.objects.create(user=admin_user, name="x", confirmed=True)
    staff_client(client, admin_user)
    member = factories.MembershipFactory().user
    elsewhere = Client()
    elsewhere.post("/login/", {"email": member.email, "password": factories.PASSWORD})
    assert elsewhere.get("/account/security/").status_code == 200
    new_password = "set by support for a reason"
    response = client.post(
        f"/admin/accounts/user/{member.pk}/password/",
        {"password1": new_password, "password2": new_password, "usable_password": "true"},
    )
    assert response.status_code == 302, response.content.decode()[:1500]
    assert AuditEvent.objects.filter(action="password.set_by_support", target_id=str(member.pk)).exists()
    assert OutboxMessage.objects.filter(template="security_changed", to_email=member.email).exists()
    assert elsewhere.get("/account/security/").status_code == 302


def _support(client):
    from django_otp.plugins.otp_totp.models import TOTPDevice

    admin_user = factories.UserFactory(is_staff=True, is_superuser=True)
    TOTPDevice.objects.create(user=admin_user, name="x", confirmed=True)
    return staff_client(client, admin_user)


NEW_PASSWORD = "set by support for a reason"


@pytest.mark.parametrize(
    ("data", "changed"),
    [
        ({"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true"}, True),
        ({"usable_password": "false", "unset-password": "1"}, True),  # password sign-in turned off
        ({"password1": NEW_PASSWORD, "password2": "not the same", "usable_password": "true"}, False),
        # Django answers this one with a redirect too (and an error message): a 302 is not a change.
        ({"usable_password": "false"}, False),
    ],
    ids=["set", "disabled", "mismatch", "conflicting"],
)
def test_the_password_set_audit_event_exists_if_and_only_if_the_password_changed(client, db, data, changed):
    _support(client)
    member = factories.MembershipFactory().user
    before = User.objects.get(pk=member.pk).password
    client.post(f"/admin/accounts/user/{member.pk}/password/", data)
    assert (User.objects.get(pk=member.pk).password != before) is changed
    assert AuditEvent.objects.filter(action="password.set_by_support", target_id=str(member.pk)).exists() is changed
    assert OutboxMessage.objects.filter(template="security_changed", to_email=member.email).exists() is changed


def test_when_the_password_set_fails_nothing_is_written(client, db, monkeypatch):
    from django.test import Client

    _support(client)
    member = factories.MembershipFactory().user
    elsewhere = Client()
    elsewhere.post("/login/", {"email": member.email, "password": factories.PASSWORD})

    def broken(**kwargs):
        raise RuntimeError("outbox unavailable")

    monkeypatch.setattr("accounts.services.support.outbox_enqueue", broken)
    with pytest.raises(RuntimeError):
        client.post(
            f"/admin/accounts/user/{member.pk}/password/",
            {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true"},
        )
    assert User.objects.get(pk=member.pk).check_password(factories.PASSWORD), "the password is unchanged"
    assert not AuditEvent.objects.filter(action="password.set_by_support").exists()
    assert elsewhere.get("/account/security/").status_code == 200, "the member's sessions were not ended"


def test_a_tenant_added_in_the_admin_is_saved_with_its_domains_and_audited_together(client, db):
    _support(client)
    data = {
        "legal_name": "Woodgrove Bank",
        "partner_id": "P-900900",
        "country": "GB",
        "postal_address": "1 Bank Street",
        "phone_on_record": "+44 20 7946 0999",
        "primary_domain": "woodgrove.example",
        "self_service_reset_scope": "all",
        "other_domains-TOTAL_FORMS": "1",
        "other_domains-INITIAL_FORMS": "0",
        "other_domains-0-domain": "woodgrove-mail.example",
        "memberships-TOTAL_FORMS": "0",
        "memberships-INITIAL_FORMS": "0",
    }
    response = client.post("/admin/accounts/tenant/add/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    tenant = Tenant.objects.get(partner_id="P-900900")
    event = AuditEvent.objects.get(action="tenant.changed_by_support", target_id=str(tenant.pk))
    assert event.before == {} and event.after["other_domains"] == ["woodgrove-mail.example"]


# --- every edit told to the old addresses; nobody deleted ------------------------------------------


def _user_form(user, **changes):
    data = {
        "email": user.email,
        "full_name": user.full_name,
        "phone": user.phone,
        "preferred_language": "en",
        "alternate_email": user.alternate_email,
        "alternate_phone": user.alternate_phone,
        "is_active": "on",
        "date_joined_0": "2026-01-01",
        "date_joined_1": "00:00:00",
        "memberships-TOTAL_FORMS": "1",
        "memberships-INITIAL_FORMS": "1",
        "memberships-0-id": user.memberships.get().pk,
        "memberships-0-user": user.pk,
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def test_a_changed_sign_in_email_is_audited_and_told_to_the_old_addresses_before_a_password_set(client, db, deliver):
    """The silent takeover: support changed the sign-in email (no event, no email), then set a password, told to the new one."""
    from django.core import mail

    from tests.conftest import emails_to

    _support(client)
    member = factories.MembershipFactory(
        user=factories.UserFactory(email="ana@fabrikam.example", alternate_email="ana.home@mail.example")
    ).user
    elsewhere = Client()
    elsewhere.post("/login/", {"email": member.email, "password": factories.PASSWORD})
    response = client.post(f"/admin/accounts/user/{member.pk}/change/", _user_form(member, email="attacker@evil.example"))
    assert response.status_code == 302, response.content.decode()[:3000]

    event = AuditEvent.objects.get(action="user.changed_by_support", target_id=str(member.pk))
    assert (event.before["email"], event.after["email"]) == ("ana@fabrikam.example", "attacker@evil.example")
    deliver()
    for old_address in ("ana@fabrikam.example", "ana.home@mail.example"):
        [told] = emails_to(old_address)
        assert told.subject == "Support changed your account"
        assert "Sign-in email: ana@fabrikam.example → attacker@evil.example" in told.body
    assert elsewhere.get("/account/security/").status_code == 302, "the owner's sessions ended"

    mail.outbox.clear()
    client.post(
        f"/admin/accounts/user/{member.pk}/password/",
        {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true"},
    )
    deliver()
    assert [m.subject for m in emails_to("ana.home@mail.example")] == ["Security change on your account"]


def test_every_field_support_edits_is_audited_with_before_and_after(client, db, deliver):
    from django.contrib.auth.models import Group

    from tests.conftest import emails_to

    _support(client)
    factories.support_groups()
    member = factories.MembershipFactory(user=factories.UserFactory(email="ana@fabrikam.example", full_name="Ana Lima")).user
    agents = Group.objects.get(name="Support agents")
    changes = {
        "full_name": "Ana Lima-Martin",
        "phone": "+33 6 11 22 33 44",
        "alternate_email": "ana.new@mail.example",
        "alternate_phone": "+33 6 55 66 77 88",
        "preferred_language": "fr",
        "is_active": None,  # unticked
        "is_staff": "on",
        "groups": [agents.pk],
    }
    assert client.post(f"/admin/accounts/user/{member.pk}/change/", _user_form(member, **changes)).status_code == 302
    event = AuditEvent.objects.get(action="user.changed_by_support", target_id=str(member.pk))
    changed = {f for f in event.after if event.before[f] != event.after[f]}
    assert changed == {
        "full_name",
        "phone",
        "alternate_email",
        "alternate_phone",
        "preferred_language",
        "is_active",
        "is_staff",
        "groups",
    }
    assert event.after["groups"] == ["Support agents"] and event.before["is_active"] is True
    deliver()
    [told] = emails_to("ana@fabrikam.example")
    assert "Peut se connecter: oui → non" in told.body, "in the owner's new language"


def test_nobody_is_deleted_in_the_admin_and_deactivation_is_audited(client, db, deliver):
    from django.contrib.auth.hashers import is_password_usable

    from tests.conftest import emails_to

    _support(client)
    tenant = factories.TenantFactory(legal_name="Fabrikam SARL")
    other = factories.TenantFactory()
    admin = factories.MembershipFactory(tenant=tenant, role=Membership.Role.GLOBAL_ADMIN).user
    only_here = factories.MembershipFactory(tenant=tenant).user
    also_elsewhere = factories.MembershipFactory(tenant=tenant).user
    factories.MembershipFactory(tenant=other, user=also_elsewhere)

    for path in (f"/admin/accounts/user/{only_here.pk}/delete/", f"/admin/accounts/tenant/{tenant.pk}/delete/"):
        assert client.get(path).status_code == 403
        assert client.post(path, {"post": "yes"}).status_code == 403
    for model in ("user", "tenant"):
        page = client.get(f"/admin/accounts/{model}/").content.decode()
        assert 'value="delete_selected"' not in page and 'value="deactivate"' in page
    assert User.objects.filter(pk=only_here.pk).exists() and Tenant.objects.filter(pk=tenant.pk).exists()

    response = client.post("/admin/accounts/tenant/", {"action": "deactivate", "_selected_action": [tenant.pk]})
    assert response.status_code == 302
    tenant.refresh_from_db()
    assert not tenant.is_active and not tenant.self_service_reset_enabled
    for user, active in ((admin, False), (only_here, False), (also_elsewhere, True)):
        user.refresh_from_db()
        assert user.is_active is active, user.email
    only_here.refresh_from_db()
    assert not is_password_usable(only_here.password), "set-password links die"
    event = AuditEvent.objects.get(action="tenant.deactivated", target_id=str(tenant.pk))
    assert event.after["accounts_deactivated"] == sorted([admin.email, only_here.email])
    assert AuditEvent.objects.filter(action="user.deactivated", target_id=str(only_here.pk)).count() == 1
    deliver()
    assert "Fabrikam SARL is deactivated on the escalation portal" in [m.subject for m in emails_to(admin.email)]

    response = client.post("/admin/accounts/user/", {"action": "deactivate", "_selected_action": [also_elsewhere.pk]})
    also_elsewhere.refresh_from_db()
    assert not also_elsewhere.is_active
    assert AuditEvent.objects.filter(action="user.deactivated", target_id=str(also_elsewhere.pk)).count() == 1
