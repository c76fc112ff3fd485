"""Personal data kept no longer than needed: closed requests are purged after a retention period.

What is purged: the evidence files (deleted from storage), the people's names, emails, phones and free
text the requester typed, the thread's messages, the objections' messages, and the request's outbox
rows. Emails are replaced by a keyed hash (HMAC with the secret key), so that support can still answer
"was this address involved?" without the address being readable. The audit log keeps its events (it is
append-only); the purge writes one more, with hashes, not content.
"""

import hashlib
import hmac
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from audit.services import Actor, audit_event_record
from notifications.models import OutboxMessage
from portal.clock import now

from .. import selectors
from ..models import Evidence, Message, Objection, ObjectionLink, ServiceRequest
from ..policy import CLOSED
from .common import supervisor_of

PURGED = "[purged]"
# Blanked (free text typed by the requester) and hashed (addresses someone may ask about).
BLANKED = (
    "requester_name", "requester_phone", "requester_job_title", "former_admin_name", "former_admin_details",
    "elevate_name", "reason", "company_address", "company_phone",
)  # fmt: skip
HASHED = ("requester_email", "former_admin_email", "elevate_email")


def keyed_hash(value: str) -> str:
    """``hmac-sha256:<hex>`` of a lower-cased value, keyed with SECRET_KEY (not reversible by a dictionary)."""
    if not value:
        return ""
    digest = hmac.new(settings.SECRET_KEY.encode(), value.strip().lower().encode(), hashlib.sha256).hexdigest()
    return f"hmac-sha256:{digest}"


@dataclass
class PurgeReport:
    reference: str
    fields: list[str] = field(default_factory=list)
    files: int = 0
    messages: int = 0
    outbox_rows: int = 0


def purge_due() -> QuerySet[ServiceRequest]:
    """Closed requests whose retention period has passed and which still hold personal data."""
    cutoff = now() - settings.PERSONAL_DATA_RETENTION
    return ServiceRequest.objects.filter(status__in=CLOSED, closed_at__lt=cutoff, personal_data_purged_at__isnull=True)


def service_request_purge_personal_data(*, service_request_id: int, dry_run: bool = False) -> PurgeReport | None:
    """Purge one closed request past its retention period; returns what was (or would be) purged.

    Atomic and idempotent (a purged or still-open request is left alone). Evidence files are deleted
    from storage only once the transaction has committed, so that a rollback never loses a file the
    database still points to. Writes ``request.purged`` with the hashes of what it removed.
    """
    with transaction.atomic(durable=True):
        sr = ServiceRequest.objects.select_for_update().filter(pk=service_request_id).first()
        if sr is None or not purge_due().filter(pk=sr.pk).exists():
            return None
        evidence = list(Evidence.objects.filter(service_request=sr))
        report = PurgeReport(
            reference=sr.reference,
            fields=[f for f in (*BLANKED, *HASHED) if getattr(sr, f)] + (["submitted_ip"] if sr.submitted_ip else []),
            files=len(evidence),
            messages=Message.objects.filter(service_request=sr).exclude(body=PURGED).count(),
            outbox_rows=OutboxMessage.objects.filter(target_type="tickets.servicerequest", target_id=str(sr.pk)).count(),
        )
        if dry_run:
            return report
        hashes = {f: keyed_hash(getattr(sr, f)) for f in HASHED}
        for name in BLANKED:
            setattr(sr, name, "")
        for name, value in hashes.items():
            setattr(sr, name, value)
        sr.submitted_ip = None
        sr.personal_data_purged_at = now()
        sr.save(update_fields=[*BLANKED, *HASHED, "submitted_ip", "personal_data_purged_at"])
        Message.objects.filter(service_request=sr).update(body=PURGED)
        Objection.objects.filter(service_request=sr).update(message="")
        for link in ObjectionLink.objects.filter(service_request=sr):
            ObjectionLink.objects.filter(pk=link.pk).update(email=keyed_hash(link.email), user=None)
        Objection.objects.filter(service_request=sr).exclude(raised_by="system").update(raised_by=PURGED)
        OutboxMessage.objects.filter(target_type="tickets.servicerequest", target_id=str(sr.pk)).delete()
        files = [e.file for e in evidence if e.file]
        for item in evidence:
            name = f"{item.sha256[:12]}.{item.content_type.rsplit('/', 1)[-1]}"
            Evidence.objects.filter(pk=item.pk).update(file="", original_name=name)
        audit_event_record(
            actor=Actor.system(),
            action="request.purged",
            target=sr,
            tenant=sr.tenant,
            after={
                "fields": report.fields,
                "hashes": hashes,
                "files": [{"sha256": e.sha256, "size": e.size} for e in evidence],
                "messages": report.messages,
                "outbox_rows": report.outbox_rows,
            },
        )
        transaction.on_commit(lambda: _delete_files(files))
    return report


def _delete_files(files: list[Any]) -> None:
    for stored in files:
        if stored.name:
            stored.storage.delete(stored.name)


def service_requests_purge_expired(*, dry_run: bool = False, limit: int = 500) -> list[PurgeReport]:
    """Beat (daily) and ``manage.py purge_expired_personal_data``: purge every request that is due."""
    reports = []
    for pk in purge_due().order_by("closed_at").values_list("pk", flat=True)[:limit]:
        report = service_request_purge_personal_data(service_request_id=pk, dry_run=dry_run)
        if report is not None:
            reports.append(report)
    return reports


def service_request_export(*, service_request: ServiceRequest, actor: Actor) -> dict[str, Any]:
    """A supervisor exports one request for a data access request. Writes ``request.exported``."""
    supervisor_of(actor, _("Only a support supervisor can export a request."))
    with transaction.atomic():
        data = selectors.service_request_export_data(service_request)
        audit_event_record(actor=actor, action="request.exported", target=service_request, tenant=service_request.tenant)
    return data
