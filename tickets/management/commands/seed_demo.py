"""Idempotent demo data: tenants, users and roles, support staff with TOTP, requests in several states.

It lives in tickets because it seeds both apps (tickets depends on accounts, never the reverse).
"""

from typing import Any
from urllib.parse import parse_qs, urlsplit

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import Membership, Tenant, TenantDomain, User
from audit.services import Actor, ActorKind
from notifications.models import OutboxMessage
from portal.clock import now
from tickets import services
from tickets.models import CheckKind, CheckOutcome, ServiceRequest
from tickets.selectors import AGENTS_GROUP, SUPERVISORS_GROUP

DEMO_PASSWORD = "demo-password-2026"  # noqa: S105  (published demo data; seed_demo refuses to run without DEBUG)

# Fixed so that the authenticator entries printed stay valid across runs (demo only).
STAFF = [
    (
        "agent@support.example",
        "Alex Agent",
        AGENTS_GROUP,
        "3132333435363738393031323334353637383930",
        ["agent-backup-01", "agent-backup-02", "agent-backup-03"],
    ),
    (
        "supervisor@support.example",
        "Sam Supervisor",
        SUPERVISORS_GROUP,
        "4142434445464748494a4b4c4d4e4f5051525354",
        ["super-backup-01", "super-backup-02", "super-backup-03"],
    ),
    # A second supervisor: disputes are resolved by one who neither proposed nor approved.
    (
        "supervisor2@support.example",
        "Sasha Second",
        SUPERVISORS_GROUP,
        "6162636465666768696a6b6c6d6e6f7071727374",
        ["sasha-backup-01", "sasha-backup-02", "sasha-backup-03"],
    ),
]

# Tenant admins who sign in at /login/ with a second factor.
TENANT_ADMIN_DEVICES = {
    "alice@contoso.example": ("5a5b5c5d5e5f606162636465666768696a6b6c6d", ["alice-backup-01", "alice-backup-02"]),
}

# Where demo users receive self-service reset codes (they land in var/mail/ like every email).
ALTERNATE_EMAILS = {
    "bob@contoso.example": "bob.home@example.net",
    "claire@fabrikam.example": "claire.home@example.net",
    "alice@contoso.example": "alice.home@example.net",
}
# Active global admins who signed in recently: they block the support path for their tenant.
RECENT_SIGNIN = ["nina@northwind.example"]

TENANTS: list[dict[str, Any]] = [
    {
        "legal_name": "Contoso Ltd",
        "partner_id": "P-100200",
        "primary_domain": "contoso.example",
        "country": "GB",
        "postal_address": "1 Market Street\nLondon EC1A 1AA",
        "phone_on_record": "+44 20 7946 0001",
        "self_service_reset_enabled": True,
        "other_domains": ["contoso-mail.example"],
        "users": [
            ("alice@contoso.example", "Alice Admin", Membership.Role.GLOBAL_ADMIN, True),
            ("bob@contoso.example", "Bob Member", Membership.Role.MEMBER, True),
        ],
    },
    {
        "legal_name": "Fabrikam SARL",
        "partner_id": "P-300400",
        "primary_domain": "fabrikam.example",
        "country": "FR",
        "postal_address": "12 rue de la Paix\n75002 Paris",
        "phone_on_record": "+33 1 70 00 00 01",
        "self_service_reset_enabled": False,
        "other_domains": [],
        "users": [
            ("marc.ancien@fabrikam.example", "Marc Ancien", Membership.Role.GLOBAL_ADMIN, False),
            ("claire@fabrikam.example", "Claire Martin", Membership.Role.MEMBER, True),
            ("luc@fabrikam.example", "Luc Bernard", Membership.Role.USER_ADMIN, True),
        ],
    },
    {
        "legal_name": "Northwind Traders Inc.",
        "partner_id": "P-500600",
        "primary_domain": "northwind.example",
        "country": "US",
        "postal_address": "500 Pine Street\nSeattle, WA 98101",
        "phone_on_record": "+1 206 555 0100",
        "self_service_reset_enabled": False,
        "other_domains": [],
        "users": [
            ("nina@northwind.example", "Nina Admin", Membership.Role.GLOBAL_ADMIN, True),
            ("oscar@northwind.example", "Oscar Member", Membership.Role.MEMBER, True),
        ],
    },
    {
        "legal_name": "Tailspin Toys GmbH",
        "partner_id": "P-700800",
        "primary_domain": "tailspin.example",
        "country": "DE",
        "postal_address": "Unter den Linden 1\n10117 Berlin",
        "phone_on_record": "+49 30 0000 0001",
        "self_service_reset_enabled": False,
        "other_domains": [],
        "users": [
            ("jonas@tailspin.example", "Jonas Alt", Membership.Role.GLOBAL_ADMIN, False),
            ("petra@tailspin.example", "Petra Weber", Membership.Role.MEMBER, True),
            ("jan@tailspin.example", "Jan Novak", Membership.Role.MEMBER, True),
        ],
    },
]


def _request_data(**overrides):
    data = {
        "category": "admin_left",
        "company_legal_name": "Fabrikam SARL",
        "company_partner_id": "P-300400",
        "company_domain": "fabrikam.example",
        "company_country": "FR",
        "company_address": "12 rue de la Paix\n75002 Paris",
        "company_phone": "+33 1 70 00 00 01",
        "requester_name": "Claire Martin",
        "requester_email": "claire@fabrikam.example",
        "requester_phone": "+33 6 00 00 00 01",
        "requester_job_title": "Office manager",
        "former_admin_name": "Marc Ancien",
        "former_admin_email": "marc.ancien@fabrikam.example",
        "former_admin_reason": "left_company",
        "former_admin_details": "Left in September.",
        "elevate_email": "luc@fabrikam.example",
        "elevate_name": "Luc Bernard",
        "reason": "Nobody can manage our users since Marc left.",
    }
    data.update(overrides)
    return data


class Command(BaseCommand):
    help = "Create demo tenants, users, support staff (with TOTP) and service requests. Safe to run twice."

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true", help="run even with DEBUG off (never in production)")

    def handle(self, *args, **options):
        if not settings.DEBUG and not options["force"]:
            # The demo publishes its passwords, TOTP secrets and backup codes.
            raise CommandError("seed_demo creates accounts with published secrets: it runs only with DEBUG on.")
        with transaction.atomic():
            staff = self._staff()
            self._tenants()
            self._tenant_admin_devices()
        # Each request is filed and moved by the services, each step its own unit of work, as in the portal.
        links = self._requests(staff)
        self._print(staff, links)

    def _staff(self):
        out = {}
        for email, name, group, key, backups in STAFF:
            user, created = User.objects.get_or_create(email=email, defaults={"full_name": name, "is_staff": True})
            if created:
                user.set_password(DEMO_PASSWORD)
                user.save()
            user.groups.add(Group.objects.get(name=group))
            TOTPDevice.objects.update_or_create(user=user, name="demo authenticator", defaults={"key": key, "confirmed": True})
            static, _ = StaticDevice.objects.get_or_create(user=user, name="backup codes")
            for token in backups:
                StaticToken.objects.get_or_create(device=static, token=token)
            out[email] = user
        return out

    def _tenant_admin_devices(self):
        for email, (key, backups) in TENANT_ADMIN_DEVICES.items():
            user = User.objects.get(email=email)
            TOTPDevice.objects.update_or_create(user=user, name="authenticator app", defaults={"key": key, "confirmed": True})
            static, _ = StaticDevice.objects.get_or_create(user=user, name="backup codes")
            for token in backups:
                StaticToken.objects.get_or_create(device=static, token=token)

    def _tenants(self):
        for spec in TENANTS:
            spec = dict(spec)
            users = spec.pop("users")
            domains = spec.pop("other_domains")
            tenant, _ = Tenant.objects.get_or_create(partner_id=spec["partner_id"], defaults=spec)
            for domain in domains:
                TenantDomain.objects.get_or_create(tenant=tenant, domain=domain)
            for email, name, role, active in users:
                user, created = User.objects.get_or_create(
                    email=email, defaults={"full_name": name, "is_active": active, "alternate_email": ALTERNATE_EMAILS.get(email, "")}
                )
                if created:
                    user.set_password(DEMO_PASSWORD)
                    user.save()
                Membership.objects.get_or_create(user=user, tenant=tenant, defaults={"role": role})
                if email in RECENT_SIGNIN:
                    User.objects.filter(pk=user.pk).update(last_login=now())

    def _requests(self, staff):
        """One request per tenant in the queue, so that none is held as concurrent with another."""
        if ServiceRequest.objects.filter(requester_email__endswith=".example", reason__startswith="[demo]").exists():
            return {}
        agent = Actor(kind=ActorKind.STAFF, user=staff["agent@support.example"])
        supervisor = Actor(kind=ActorKind.STAFF, user=staff["supervisor@support.example"])
        fabrikam = Tenant.objects.get(partner_id="P-300400")
        tailspin = Tenant.objects.get(partner_id="P-700800")
        links = {}
        # 1. Fabrikam, waiting for the requester to confirm their email.
        services.service_request_submit(
            data=_request_data(
                reason="[demo] Nobody can manage our users since Marc left.",
                elevate_email="claire@fabrikam.example",
                elevate_name="Claire Martin",
            )
        )
        # 2. Northwind, rejected: a look-alike company.
        sr = services.service_request_submit(
            data=_request_data(
                reason="[demo] Urgent!!",
                company_legal_name="Northwind Trading",
                company_domain="northwind.example",
                company_partner_id="",
                company_country="US",
                company_address="1 Unknown Road",
                company_phone="+1 555 0199",
                requester_name="Eve Attacker",
                requester_email="eve@northwind.example",
                former_admin_name="Nina",
                former_admin_email="nina@northwind.example",
                elevate_email="eve@northwind.example",
                elevate_name="Eve Attacker",
            )
        )
        self._confirm(sr)
        services.service_request_reject(
            service_request=sr, actor=agent, reason="The call-back to the number on record denied the request."
        )
        # 3. Northwind, in the queue: a member names Nina, who signs in every day, as "former admin".
        sr = services.service_request_submit(
            data=_request_data(
                reason="[demo] Nina has left, please make me admin.",
                company_legal_name="Northwind Traders Inc.",
                company_partner_id="P-500600",
                company_domain="northwind.example",
                company_country="US",
                company_address="500 Pine Street\nSeattle, WA 98101",
                company_phone="+1 206 555 0100",
                requester_name="Oscar Member",
                requester_email="oscar@northwind.example",
                former_admin_name="Nina Admin",
                former_admin_email="nina@northwind.example",
                elevate_email="oscar@northwind.example",
                elevate_name="Oscar Member",
            )
        )
        links["northwind"] = self._confirm(sr)
        # 4. Tailspin, in review: tenant matched, two checks done; the call-back and the gone check remain.
        sr = services.service_request_submit(
            data=_request_data(
                reason="[demo] Jonas retired; please make Jan admin.",
                company_legal_name="Tailspin Toys GmbH",
                company_partner_id="P-700800",
                company_domain="tailspin.example",
                company_country="DE",
                company_address="Unter den Linden 1\n10117 Berlin",
                company_phone="+49 30 0000 0001",
                requester_name="Petra Weber",
                requester_email="petra@tailspin.example",
                former_admin_name="Jonas Alt",
                former_admin_email="jonas@tailspin.example",
                elevate_email="jan@tailspin.example",
                elevate_name="Jan Novak",
            ),
            language="fr",
        )
        links["tailspin"] = self._confirm(sr)
        services.service_request_assign(service_request=sr, actor=agent)
        services.service_request_match_tenant(service_request=sr, tenant=tailspin, actor=agent)
        for kind in (CheckKind.IDENTITY_EVIDENCE, CheckKind.COMPANY_DETAILS):
            services.verification_check_record(service_request=sr, actor=agent, kind=kind, outcome=CheckOutcome.PASSED, note="Demo")
        # 5. Fabrikam, approved by two people: its waiting period runs (minutes long in the demo).
        sr = services.service_request_submit(data=_request_data(reason="[demo] Marc has left; please make Luc admin."))
        links["fabrikam"] = self._confirm(sr)
        services.service_request_assign(service_request=sr, actor=agent)
        services.service_request_match_tenant(service_request=sr, tenant=fabrikam, actor=agent)
        for kind in (
            CheckKind.IDENTITY_EVIDENCE,
            CheckKind.CALLBACK_ON_RECORD,
            CheckKind.COMPANY_DETAILS,
            CheckKind.FORMER_ADMIN_GONE,
        ):
            services.verification_check_record(service_request=sr, actor=agent, kind=kind, outcome=CheckOutcome.PASSED, note="Demo")
        elevation = services.elevation_propose(service_request=sr, actor=agent, email="luc@fabrikam.example")
        services.elevation_approve(service_request=sr, actor=supervisor, elevation_id=elevation.pk, email=elevation.email)
        return links

    def _confirm(self, sr):
        """Click the confirmation link as the requester would, from the email ``service_request_submit``
        queued (still unsent: the outbox is delivered after this command's transaction commits)."""
        email = OutboxMessage.objects.get(template="confirm_email", target_type=sr._meta.label_lower, target_id=str(sr.pk))
        token = parse_qs(urlsplit(email.secrets["confirm_url"]).query)["token"][0]
        sr, tracking = services.service_request_confirm_email(reference=sr.reference, token=token)
        return f"{settings.SITE_URL}/requests/{sr.reference}/?token={tracking}"

    def _print(self, staff, links):
        w = self.stdout.write
        site = settings.SITE_URL
        w("")
        w("Escalation portal demo")
        w(f"  Public form:   {site}/requests/new/")
        w(f"  Agents' admin: {site}/admin/   (sign in at {site}/login/: password, then a TOTP or backup code)")
        w(f"  Health:        {site}/healthz")
        w("  Emails land in var/mail/ (one file per message)")
        w(f"  Demo password for every account: {DEMO_PASSWORD}")
        for email, _name, group, _key, backups in STAFF:
            device = TOTPDevice.objects.get(user=staff[email], name="demo authenticator")
            w(f"  {group[:-1]}: {email}")
            w(f"     TOTP (add to an authenticator app): {device.config_url}")
            w(f"     or a backup token (single use): {', '.join(backups)}")
        w(f"  Tenant console: {site}/login/ then {site}/console/")
        for email, (_key, backups) in TENANT_ADMIN_DEVICES.items():
            device = TOTPDevice.objects.get(user__email=email, name="authenticator app")
            w(f"  Tenant global admin: {email}")
            w(f"     TOTP: {device.config_url}")
            w(f"     or a backup code (single use): {', '.join(backups)}")
        w(f"  Self-service reset: {site}/password-reset/ as bob@contoso.example (Contoso has it on; the code")
        w("     goes to bob.home@example.net, i.e. a file in var/mail/); claire@fabrikam.example shows the 'off' path.")
        waiting = settings.ELEVATION_WAITING_PERIOD.total_seconds() / 60
        w(f"  Service requests (an approved elevation waits {waiting:g} minutes here, 72 hours in production):")
        if links:
            w(f"     Fabrikam, approved, waiting period running (tracking page): {links['fabrikam']}")
            w("        luc@ and marc.ancien@fabrikam.example got an objection link in var/mail/: one click puts it on hold;")
            w("        unobjected, it completes by itself. supervisor2@ resolves a dispute (not the approver).")
            w(f"     Tailspin, in review: record the call-back and 'former admin gone', propose, approve: {links['tailspin']}")
            w(f"     Northwind, blocked: Nina signs in every day, so 'former admin gone' cannot pass: {links['northwind']}")
        else:
            w("     (created on the first run; their tracking links were printed then: get new ones at /requests/access/)")
        w("  File a request for contoso.example: Contoso's global admin (alice@ and alice.home@) is emailed at once.")
        w("")
