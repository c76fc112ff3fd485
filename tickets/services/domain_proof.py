"""Domain proof by DNS: the requester publishes the request's value at ``_escalation-portal.<domain>``."""

from django.conf import settings
from django.db import transaction
from django.db.models import F, OuterRef, Q, Subquery
from django.utils.translation import gettext_lazy as _

from audit.services import Actor, audit_event_record
from portal.clock import now

from .. import dns_proof, selectors
from ..models import CheckKind, CheckOutcome, ServiceRequest, VerificationCheck
from ..policy import CHECKABLE
from ..workflow import SYSTEM, DomainError, lock
from .checks import check_write, verification_progress


def _proves_tenant(sr: ServiceRequest) -> bool:
    """The filed domain must be one of the tenant's verified domains, or the proof proves nothing about it."""
    tenant = selectors.suggested_tenant(sr)
    domain = sr.company_domain.strip().rstrip(".").lower()
    return tenant is not None and domain in {d.lower() for d in tenant.all_domains}


def domain_proof_look_up(*, service_request: ServiceRequest, actor: Actor, audit: bool = True) -> dns_proof.Lookup:
    """Look the record up now and keep the answer and its time on the request (``dns_checked_at``,
    ``dns_answer``, which says why when nothing counted). Returns the lookup; never raises for DNS trouble.

    The lookup happens outside any transaction (it waits on the network); the result is then written
    with the row locked. A ``domain_dns`` check passes, at most once, when the exact value is found, the
    request is checkable and the filed domain is one of the matched (else suggested) tenant's domains:
    ``check.recorded`` carries the resolver's answer, and a request in review whose proof is now complete
    becomes verified. Manual lookups are audited (``domain_proof.looked_up``); the periodic one is not.
    Raises DomainError, before asking anything, for a request that is not checkable (e.g. closed).
    """
    if service_request.status not in CHECKABLE:
        raise DomainError(_("The DNS record can only be looked up while the request is being reviewed."))
    lookup = dns_proof.look_up(service_request.company_domain)
    with transaction.atomic():
        sr = lock(service_request)
        sr.dns_checked_at = lookup.at
        sr.dns_answer = lookup.describe(sr.dns_challenge)[:2000]
        sr.save(update_fields=["dns_checked_at", "dns_answer"])
        if audit:
            audit_event_record(
                actor=actor,
                action="domain_proof.looked_up",
                target=sr,
                tenant=sr.tenant,
                after={"name": lookup.name, "answer": lookup.values, "error": lookup.error, "resolver": lookup.resolver},
            )
        already = CheckKind.DOMAIN_DNS in selectors.passed_kinds(sr)
        if sr.status in CHECKABLE and not already and lookup.found(sr.dns_challenge) and _proves_tenant(sr):
            check_write(
                service_request=sr,
                kind=CheckKind.DOMAIN_DNS,
                outcome=CheckOutcome.PASSED,
                note=f"Found the request's value. {lookup.describe()}",
                actor=actor,
                details={
                    "name": lookup.name,
                    "answer": lookup.values,
                    "resolver": lookup.resolver,
                    "looked_up_at": lookup.at.isoformat(),
                },
            )
            verification_progress(service_request=sr, actor=actor, role=SYSTEM)
    return lookup


def domain_proofs_look_up(limit: int = 100) -> int:
    """Beat: look again for recent checkable requests whose DNS proof has not passed, each at most once
    per DOMAIN_PROOF_RECHECK, the least recently looked up first. Idempotent. Returns how many passed now."""
    moment = now()
    latest_dns = (
        VerificationCheck.objects.filter(service_request=OuterRef("pk"), kind=CheckKind.DOMAIN_DNS)
        .order_by("-created_at", "-id")
        .values("outcome")[:1]
    )
    candidates = (
        ServiceRequest.objects.alias(dns_outcome=Subquery(latest_dns))
        .filter(status__in=CHECKABLE, created_at__gte=moment - settings.DOMAIN_PROOF_LOOKUP_FOR)
        # Those already proven are left out here, not skipped in the loop: they would fill the batch.
        .filter(Q(dns_outcome__isnull=True) | ~Q(dns_outcome=CheckOutcome.PASSED))
        .exclude(dns_challenge="")
        .exclude(dns_checked_at__gte=moment - settings.DOMAIN_PROOF_RECHECK)
        .order_by(F("dns_checked_at").asc(nulls_first=True), "created_at")
    )
    passed = 0
    for sr in candidates[:limit]:
        domain_proof_look_up(service_request=sr, actor=Actor.system(), audit=False)
        # Found is not enough (the domain may not be the tenant's): count the checks that passed.
        passed += CheckKind.DOMAIN_DNS in selectors.passed_kinds(sr)
    return passed
