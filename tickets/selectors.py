"""Read-only queries for service requests: queue, thread, checklist, comparison."""

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db.models import Q

from accounts import selectors as account_selectors
from audit.selectors import audit_events_for
from portal.clock import now

from .models import CheckKind, CheckOutcome, ServiceRequest, Status, VerificationCheck

AGENTS_GROUP = "Support agents"
SUPERVISORS_GROUP = "Support supervisors"

# All must pass before a request is verified.
REQUIRED_CHECKS = [
    CheckKind.EMAIL_CONFIRMED,
    CheckKind.IDENTITY_EVIDENCE,
    CheckKind.CALLBACK_ON_RECORD,
    CheckKind.COMPANY_DETAILS,
    CheckKind.FORMER_ADMIN_GONE,
]


def support_agents():
    """Active staff who work the queue (agents and supervisors)."""
    User = get_user_model()
    return User.objects.filter(
        is_active=True, is_staff=True, groups__name__in=[AGENTS_GROUP, SUPERVISORS_GROUP]
    ).distinct()


def support_supervisors():
    User = get_user_model()
    return User.objects.filter(is_active=True, is_staff=True, groups__name=SUPERVISORS_GROUP).distinct()


def staff_role(user) -> str | None:
    """``"supervisor"``, ``"agent"`` or None for a signed-in user."""
    if not (user and user.is_authenticated and user.is_active and user.is_staff):
        return None
    if user.has_perm("tickets.approve_elevation"):
        return "supervisor"
    if user.has_perm("tickets.work_servicerequest"):
        return "agent"
    return None


def overdue_q(at=None):
    from .workflow import SLA_RUNNING

    return Q(status__in=SLA_RUNNING, sla_due_at__lt=at or now())


def latest_checks(service_request: ServiceRequest) -> dict[str, VerificationCheck]:
    """The latest recorded check of each kind."""
    latest: dict[str, VerificationCheck] = {}
    for check in service_request.checks.select_related("agent").order_by("created_at", "id"):
        latest[check.kind] = check
    return latest


def checklist(service_request: ServiceRequest) -> list[dict]:
    latest = latest_checks(service_request)
    return [{"kind": kind, "label": kind.label, "check": latest.get(kind)} for kind in REQUIRED_CHECKS]


def checks_all_passed(service_request: ServiceRequest) -> bool:
    latest = latest_checks(service_request)
    return all(k in latest and latest[k].outcome == CheckOutcome.PASSED for k in REQUIRED_CHECKS)


@dataclass
class ComparisonRow:
    label: str
    filed: str
    on_record: str
    matches: bool | None  # None: nothing on record to compare with


def _norm(value: str) -> str:
    return " ".join((value or "").lower().replace(",", " ").split())


def _digits(value: str) -> str:
    return "".join(ch for ch in value or "" if ch.isdigit())[-9:]


def comparison(service_request: ServiceRequest) -> list[ComparisonRow]:
    """What was filed beside the matched tenant's record, each row flagged when it differs."""
    from django.utils.translation import gettext as _

    sr = service_request
    t = sr.tenant
    if t is None:
        return []
    domains = t.all_domains
    former_is_admin = bool(sr.former_admin_email) and account_selectors.is_global_admin_on_record(
        t, sr.former_admin_email
    )
    return [
        ComparisonRow(_("Legal name"), sr.company_legal_name, t.legal_name,
                      _norm(sr.company_legal_name) == _norm(t.legal_name)),
        ComparisonRow(_("Partner ID"), sr.company_partner_id or "—", t.partner_id,
                      None if not sr.company_partner_id else sr.company_partner_id.strip() == t.partner_id),
        ComparisonRow(_("Domain"), sr.company_domain, ", ".join(domains),
                      sr.company_domain.lower() in [d.lower() for d in domains]),
        ComparisonRow(_("Country"), str(sr.company_country.name), str(t.country.name),
                      sr.company_country.code == t.country.code),
        ComparisonRow(_("Postal address"), sr.company_address, t.postal_address,
                      _norm(sr.company_address) == _norm(t.postal_address)),
        ComparisonRow(_("Phone"), sr.company_phone, t.phone_on_record,
                      _digits(sr.company_phone) == _digits(t.phone_on_record)),
        ComparisonRow(_("Former admin is a global admin on record"), sr.former_admin_email or "—",
                      _("yes") if former_is_admin else _("no"), former_is_admin),
        ComparisonRow(_("Requester's email on a tenant domain"), sr.requester_email, ", ".join(domains),
                      account_selectors.tenant_owns_email(t, sr.requester_email)),
        ComparisonRow(_("User to elevate on a tenant domain"), sr.elevate_email, ", ".join(domains),
                      account_selectors.tenant_owns_email(t, sr.elevate_email)),
    ]


def suggested_tenant(service_request: ServiceRequest):
    if service_request.tenant_id:
        return service_request.tenant
    return account_selectors.tenant_for_domain(service_request.company_domain)


def public_timeline(service_request: ServiceRequest) -> list[dict]:
    """What the requester may see: status changes and public messages, oldest first."""
    items = [
        {"at": e.created_at, "kind": "status", "status": e.after.get("status")}
        for e in audit_events_for(service_request).filter(action="status.changed")
    ]
    for m in service_request.messages.filter(kind="public").prefetch_related("attachments"):
        items.append({"at": m.created_at, "kind": "message", "message": m})
    items.sort(key=lambda i: i["at"])
    return items


def requester_can_reply(service_request: ServiceRequest) -> bool:
    from .workflow import OPEN

    return service_request.status in OPEN and service_request.status != Status.AWAITING_EMAIL_CONFIRMATION
