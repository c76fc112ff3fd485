"""What a data access request receives about one service request: as filed, its timeline, its files."""

from typing import Any

from audit.selectors import audit_events_for

from ..models import Evidence, ServiceRequest

FILED = (
    "reference", "category", "status", "language", "company_legal_name", "company_partner_id", "company_domain",
    "company_address", "company_phone", "requester_name", "requester_email", "requester_phone", "requester_job_title",
    "former_admin_name", "former_admin_email", "former_admin_reason", "former_admin_details", "elevate_email",
    "elevate_name", "reason", "rejection_reason",
)  # fmt: skip


def _when(value: Any) -> str | None:
    return value.isoformat() if value else None


def service_request_export_data(service_request: ServiceRequest) -> dict[str, Any]:
    """The request as filed, its status history, the messages exchanged with the requester, the checks'
    outcomes and the list of evidence files (not their content). Internal notes stay out."""
    sr = service_request
    return {
        "request": {
            **{name: getattr(sr, name) for name in FILED},
            "company_country": sr.company_country.code,  # type: ignore[attr-defined]  # django-countries' Country
            "submitted_ip": sr.submitted_ip,
            "filed_at": _when(sr.created_at),
            "email_confirmed_at": _when(sr.email_confirmed_at),
            "closed_at": _when(sr.closed_at),
            "personal_data_purged_at": _when(sr.personal_data_purged_at),
        },
        "timeline": [
            {"at": _when(e.created_at), "from": e.before.get("status"), "to": e.after.get("status")}
            for e in audit_events_for(sr).filter(action="status.changed").order_by("created_at", "id")
        ],
        "messages": [
            {"at": _when(m.created_at), "from": "requester" if m.from_requester else "support", "body": m.body}
            for m in sr.messages.filter(kind="public").order_by("created_at", "id")
        ],
        "checks": [{"at": _when(c.created_at), "check": c.kind, "outcome": c.outcome} for c in sr.checks.order_by("created_at", "id")],
        "evidence": [
            {"name": e.original_name, "type": e.content_type, "size": e.size, "sha256": e.sha256, "uploaded_at": _when(e.created_at)}
            for e in Evidence.objects.filter(service_request=sr).order_by("created_at", "id")
        ],
    }
