"""Domain proof by DNS: the requester publishes the request's value at ``_escalation-portal.<domain>``."""

from django.conf import settings
from django.db import transaction
from django.db.models import F

from accounts import selectors as account_selectors
from audit.services import Actor, audit_event_record
from portal.clock import now

from .. import dns_proof, selectors
from ..models import CheckKind, CheckOutcome, ServiceRequest
from ..policy import CHECKABLE
from ..workflow import SYSTEM, lock
from .checks import check_write, verification_progress


def _proves_tenant(sr: ServiceRequest) -> bool:
    """The filed domain must be one of the tenant's verified domains, or the proof proves nothing about it."""
    tenant = selectors.suggested_tenant(sr)
    return tenant is not None and account_selectors.tenant_owns_email(tenant, f"x@{sr.company_domain}")


def domain_proof_look_up(*, service_request: ServiceRequest, actor: Actor, audit: bool = True) -> dns_proof.Lookup:
    """Look the record up now and keep the answer and its time on the request.

    The lookup happens outside any transaction (it waits on the network); the result is then written
    with the row locked. When the exact value is found, the filed domain is the tenant's and no proof
    has passed yet, a ``domain_dns`` check passes (``check.recorded``, with the resolver's answer), and a
    request in review whose proof is now complete becomes verified. Manual lookups are audited
    (``domain_proof.looked_up``); the periodic one is not, unless it passes.
    """
    lookup = dns_proof.look_up(service_request.company_domain)
    with transaction.atomic():
        sr = lock(service_request)
        sr.dns_checked_at = lookup.at
        sr.dns_answer = lookup.describe()[:2000]
        sr.save(update_fields=["dns_checked_at", "dns_answer"])
        if audit:
            audit_event_record(actor=actor, action="domain_proof.looked_up", target=sr, tenant=sr.tenant,
                               after={"name": lookup.name, "answer": lookup.values, "error": lookup.error,
                                      "resolver": lookup.resolver})
        already = CheckKind.DOMAIN_DNS in selectors.passed_kinds(sr)
        if sr.status in CHECKABLE and not already and lookup.found(sr.dns_challenge) and _proves_tenant(sr):
            check_write(service_request=sr, kind=CheckKind.DOMAIN_DNS, outcome=CheckOutcome.PASSED,
                        note=f"Found the request's value. {lookup.describe()}", actor=actor,
                        details={"name": lookup.name, "answer": lookup.values, "resolver": lookup.resolver,
                                 "looked_up_at": lookup.at.isoformat()})
            verification_progress(service_request=sr, actor=actor, role=SYSTEM)
    return lookup


def domain_proofs_look_up(limit: int = 100) -> int:
    """Beat: look again for requests still waiting for their DNS proof. Returns how many passed."""
    moment = now()
    candidates = (ServiceRequest.objects.filter(status__in=CHECKABLE, created_at__gte=moment - settings.DOMAIN_PROOF_LOOKUP_FOR)
                  .exclude(dns_challenge="")
                  .exclude(dns_checked_at__gte=moment - settings.DOMAIN_PROOF_RECHECK)
                  .order_by(F("dns_checked_at").asc(nulls_first=True), "created_at"))
    passed = 0
    for sr in candidates[:limit]:
        if CheckKind.DOMAIN_DNS in selectors.passed_kinds(sr):
            continue
        lookup = domain_proof_look_up(service_request=sr, actor=Actor.system(), audit=False)
        passed += lookup.found(sr.dns_challenge)
    return passed
