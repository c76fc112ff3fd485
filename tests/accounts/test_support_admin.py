"""Support's edits of tenants and users in the admin are audited, and a new phone on record is told."""

import pytest

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
