"""Read-only queries about service requests: queue, comparison, timeline, concurrency."""

from dataclasses import dataclass
from datetime import datetime

from django.core.cache import cache
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from accounts import selectors as account_selectors
from accounts.models import Tenant
from audit.selectors import audit_events_for
from portal.clock import now

from ..models import Message, RequestLink, ServiceRequest, Status
from ..policy import IN_QUEUE, OPEN, SLA_RUNNING

_COUNTRIES_KEY = "tickets:queue-countries"
COUNTRIES_CACHE_SECONDS = 300


def overdue_q(at: datetime | None = None) -> Q:
    return Q(status__in=SLA_RUNNING, sla_due_at__lt=at or now())


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
    sr = service_request
    t = sr.tenant
    if t is None:
        return []
    domains = t.all_domains
    return [
        ComparisonRow(_("Legal name"), sr.company_legal_name, t.legal_name, _norm(sr.company_legal_name) == _norm(t.legal_name)),
        ComparisonRow(
            _("Partner ID"),
            sr.company_partner_id or "—",
            t.partner_id,
            None if not sr.company_partner_id else sr.company_partner_id.strip() == t.partner_id,
        ),
        ComparisonRow(_("Domain"), sr.company_domain, ", ".join(domains), sr.company_domain.lower() in [d.lower() for d in domains]),
        ComparisonRow(
            _("Country"),
            str(sr.company_country.name),  # type: ignore[attr-defined]  # django-countries' Country
            str(t.country.name),  # type: ignore[attr-defined]
            sr.company_country.code == t.country.code,  # type: ignore[attr-defined]
        ),
        ComparisonRow(_("Postal address"), sr.company_address, t.postal_address, _norm(sr.company_address) == _norm(t.postal_address)),
        ComparisonRow(_("Phone"), sr.company_phone, t.phone_on_record, _digits(sr.company_phone) == _digits(t.phone_on_record)),
        ComparisonRow(
            _("Requester's email on a tenant domain"),
            sr.requester_email,
            ", ".join(domains),
            account_selectors.tenant_owns_email(t, sr.requester_email),
        ),
        ComparisonRow(
            _("User to elevate on a tenant domain"),
            sr.elevate_email,
            ", ".join(domains),
            account_selectors.tenant_owns_email(t, sr.elevate_email),
        ),
    ]


def countries_with_requests() -> list[str]:
    """Codes of the countries some request was filed for: the queue's country filter lists these.

    A DISTINCT over every request costs a scan of the table on each queue page; the list changes rarely, so
    it is kept in the cache for a few minutes (a country's first request appears in the filter within that
    time; filtering by it works at once).
    """
    codes = cache.get(_COUNTRIES_KEY)
    if codes is None:
        codes = sorted(
            str(code)
            for code in ServiceRequest.objects.exclude(company_country="")
            .order_by()  # without the model's ordering, or DISTINCT would be over (country, date): one row per request
            .values_list("company_country", flat=True)
            .distinct()
        )
        cache.set(_COUNTRIES_KEY, codes, COUNTRIES_CACHE_SECONDS)
    return codes


def suggested_tenant(service_request: ServiceRequest) -> Tenant | None:
    """The tenant the request is about: the one matched by an agent, else the one holding the filed domain."""
    if service_request.tenant_id:
        return service_request.tenant
    return account_selectors.tenant_for_domain(service_request.company_domain)


def public_timeline(service_request: ServiceRequest) -> list[dict]:
    """What the requester may see: status changes and public messages, oldest first."""
    items = [
        {"at": e.created_at, "kind": "status", "status": e.after.get("status")}
        for e in audit_events_for(service_request).filter(action="status.changed")
    ]
    for m in service_request.messages.filter(kind=Message.Kind.PUBLIC).prefetch_related("attachments"):
        items.append({"at": m.created_at, "kind": "message", "message": m})
    items.sort(key=lambda i: i["at"])
    return items


def requester_can_reply(service_request: ServiceRequest) -> bool:
    return service_request.status in OPEN and service_request.status != Status.AWAITING_EMAIL_CONFIRMATION


def concurrent_requests(service_request: ServiceRequest) -> QuerySet[ServiceRequest]:
    """Other confirmed, open requests for the same tenant (or the same domain before matching):
    two at once is a common sign of an attack."""
    sr = service_request
    tenant = suggested_tenant(sr)
    same = Q(company_domain__iexact=sr.company_domain)
    if tenant is not None:
        same |= Q(tenant=tenant) | Q(tenant__isnull=True, company_domain__in=[d.lower() for d in tenant.all_domains])
    return ServiceRequest.objects.filter(same, status__in=IN_QUEUE).exclude(pk=sr.pk).order_by("created_at")


def linked_pairs(service_request: ServiceRequest) -> set[int]:
    """Ids of requests a supervisor linked to this one."""
    pk = service_request.pk
    pairs = RequestLink.objects.filter(Q(first_id=pk) | Q(second_id=pk)).values_list("first_id", "second_id")
    return {a if b == pk else b for a, b in pairs}


def unlinked_concurrent(service_request: ServiceRequest) -> list[ServiceRequest]:
    """Concurrent requests a supervisor has neither linked to this one nor closed: they block approval."""
    linked = linked_pairs(service_request)
    return [other for other in concurrent_requests(service_request) if other.pk not in linked]
