"""Telling the people who can stop a takeover, each with a single-purpose objection link.

Called inside the transaction of the change (confirmation, approval, a new waiting period...): the
links and the outbox rows are written with it, and delivered after commit.
"""

from datetime import datetime
from typing import Any

from django.conf import settings
from django.urls import reverse

from accounts.models import Tenant, User
from notifications.services import outbox_enqueue
from portal.clock import now

from . import policy, selectors, tokens
from .models import ObjectionLink, ServiceRequest


def objection_url(raw_token: str) -> str:
    return settings.SITE_URL + reverse("tickets:object") + f"?token={raw_token}"


def _facts(sr: ServiceRequest) -> dict:
    """What the email says: who filed what, for which user."""
    return {
        "reference": sr.reference,
        "company": sr.company_legal_name,
        "domain": sr.company_domain,
        "requester_name": sr.requester_name,
        "requester_email": sr.requester_email,
        "requester_job_title": sr.requester_job_title,
        "former_admin": sr.former_admin_email or "—",
        "elevate_email": sr.elevate_email,
        "elevate_name": sr.elevate_name,
        "filed_at": when(sr.created_at),
    }


def _send(
    sr: ServiceRequest, *, email: str, user: User | None, why: str, tenant: Tenant | None, template: str, context: dict[str, Any]
) -> ObjectionLink:
    raw, digest = tokens.new_token()
    language = user.preferred_language if user is not None else sr.language
    message = outbox_enqueue(
        template=template,
        to_email=email,
        language=language,
        context={
            **_facts(sr),
            **context,
            "tenant": tenant.legal_name if tenant else sr.company_legal_name,
            "recipient_name": user.get_short_name() if user is not None else "",
            "why": why,
        },
        secrets={"objection_url": objection_url(raw)},
        target=sr,
    )
    return ObjectionLink.objects.create(
        service_request=sr, tenant=tenant, user=user, email=email, why=why, token_hash=digest, outbox_message=message, created_at=now()
    )


def warn_tenant(sr: ServiceRequest, tenant: Tenant, *, template: str, **context: Any) -> list[ObjectionLink]:
    """Email every person who can stop the request in ``tenant`` (active global admins at both their
    addresses, the former admin on record), each with their own objection link."""
    return [
        _send(sr, email=r.email, user=r.user, why=r.why, tenant=tenant, template=template, context=context)
        for r in selectors.people_to_warn(sr, tenant)
    ]


def warn_everyone(
    sr: ServiceRequest, *, template: str, proposed_user: User | None = None, proposed_email: str = "", **context: Any
) -> list[ObjectionLink]:
    """Every tenant the request concerns, and the proposed user (who may not know of it either)."""
    links = []
    for tenant in selectors.tenants_to_warn(sr):
        links += warn_tenant(sr, tenant, template=template, **context)
    told = {link.email.lower() for link in links}
    if proposed_email and proposed_email.lower() not in told:
        links.append(
            _send(
                sr,
                email=proposed_email,
                user=proposed_user,
                why=ObjectionLink.Why.PROPOSED_USER,
                tenant=sr.tenant,
                template=template,
                context=context,
            )
        )
    return links


def when(moment: datetime) -> str:
    """A moment as emails show it, unambiguous whatever the reader's time zone."""
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def filed_context(sr: ServiceRequest) -> dict:
    """For the first warning: the earliest moment the request could take effect, and any concurrent request."""
    return {
        "earliest": when(now() + policy.waiting_period(sr)),
        "concurrent": ", ".join(r.reference for r in selectors.concurrent_requests(sr)),
    }


def tenants_already_warned(sr: ServiceRequest) -> set[int]:
    return set(ObjectionLink.objects.filter(service_request=sr, tenant__isnull=False).values_list("tenant_id", flat=True))
