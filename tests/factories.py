import importlib

import factory
from django.contrib.auth.models import Group
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import Membership, Tenant, User
from tickets import tokens
from tickets.models import ServiceRequest
from tickets.selectors import AGENTS_GROUP, SUPERVISORS_GROUP

PASSWORD = "correct-horse-battery-staple"


class TenantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tenant

    legal_name = factory.Sequence(lambda n: f"Company {n} SAS")
    partner_id = factory.Sequence(lambda n: f"P-{n:06d}")
    primary_domain = factory.Sequence(lambda n: f"company{n}.example")
    country = "FR"
    postal_address = "12 rue de la Paix\n75002 Paris"
    phone_on_record = "+33 1 70 00 00 01"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.org")
    full_name = factory.Sequence(lambda n: f"User {n}")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    tenant = factory.SubFactory(TenantFactory)
    role = Membership.Role.MEMBER


def support_groups():
    """The groups come from data migrations; transactional tests flush them, so re-run them then."""
    if Group.objects.filter(name__in=[AGENTS_GROUP, SUPERVISORS_GROUP]).count() < 2:
        from django.apps import apps

        importlib.import_module("tickets.migrations.0002_support_groups").create_groups(apps, None)
        importlib.import_module("tickets.migrations.0006_supervisors_retry_emails").grant(apps, None)


def staff_user(group_name: str, **kwargs) -> User:
    support_groups()
    user = UserFactory(is_staff=True, **kwargs)
    user.groups.add(Group.objects.get(name=group_name))
    TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    return user


def agent(**kwargs):
    return staff_user(AGENTS_GROUP, **kwargs)


def supervisor(**kwargs):
    return staff_user(SUPERVISORS_GROUP, **kwargs)


class ServiceRequestFactory(factory.django.DjangoModelFactory):
    """A request as filed for ``tenant``'s domain (status awaiting confirmation unless given)."""

    class Meta:
        model = ServiceRequest

    class Params:
        tenant_on_record = factory.SubFactory(TenantFactory)

    reference = factory.Sequence(lambda n: f"SR-T{n:03d}-TEST"[:13])
    category = "admin_left"
    company_legal_name = factory.LazyAttribute(lambda o: o.tenant_on_record.legal_name)
    company_partner_id = factory.LazyAttribute(lambda o: o.tenant_on_record.partner_id)
    company_domain = factory.LazyAttribute(lambda o: o.tenant_on_record.primary_domain)
    company_country = factory.LazyAttribute(lambda o: o.tenant_on_record.country)
    company_address = factory.LazyAttribute(lambda o: o.tenant_on_record.postal_address)
    company_phone = factory.LazyAttribute(lambda o: o.tenant_on_record.phone_on_record)
    requester_name = "Claire Martin"
    requester_email = factory.LazyAttribute(lambda o: f"claire@{o.company_domain}")
    requester_phone = "+33 6 00 00 00 01"
    requester_job_title = "Office manager"
    former_admin_name = "Marc Ancien"
    former_admin_email = factory.LazyAttribute(lambda o: f"marc@{o.company_domain}")
    former_admin_reason = "left_company"
    elevate_email = factory.LazyAttribute(lambda o: f"luc@{o.company_domain}")
    elevate_name = "Luc Bernard"
    reason = "Our admin left."


def tracked_request(sr=None, **kwargs) -> tuple[ServiceRequest, str]:
    """A request and the raw token of its private tracking link, as emailed to the requester.

    Makes the request with ``ServiceRequestFactory(**kwargs)``, or gives ``sr`` a new link (its old one
    stops working). Only the token's SHA-256 digest is stored, as the portal does.
    """
    return _with_link_token("tracking_token_hash", sr, kwargs)


def confirmable_request(sr=None, **kwargs) -> tuple[ServiceRequest, str]:
    """A request and the raw token of its emailed confirmation link (same rules as ``tracked_request``)."""
    return _with_link_token("confirmation_token_hash", sr, kwargs)


def _with_link_token(field, sr, kwargs):
    raw, digest = tokens.new_token()
    if sr is None:
        return ServiceRequestFactory(**kwargs, **{field: digest}), raw
    if kwargs:
        raise TypeError(f"give either a request or factory arguments, not both: {sorted(kwargs)}")
    ServiceRequest.objects.filter(pk=sr.pk).update(**{field: digest})
    setattr(sr, field, digest)
    return sr, raw


def tracking_path(sr, raw) -> str:
    """The path of the private tracking link (what the requester's email points to, less the site)."""
    return f"/requests/{sr.reference}/?token={raw}"
