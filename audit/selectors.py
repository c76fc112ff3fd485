"""Reading the audit log."""

from collections.abc import Iterable
from typing import TYPE_CHECKING

from django.db import models
from django.db.models import QuerySet

from .actions import AuditAction
from .models import AuditEvent

if TYPE_CHECKING:  # for annotations only: audit sits below the domain apps
    from accounts.models import Tenant


def audit_events_for(target: models.Model) -> QuerySet[AuditEvent]:
    return AuditEvent.objects.filter(target_type=target._meta.label_lower, target_id=str(target.pk)).select_related("actor")


def audit_events_for_tenant(tenant: "Tenant", *, action: str = "", leave_out_target_types: Iterable[str] = ()) -> QuerySet[AuditEvent]:
    """A tenant's audit log, newest first, optionally one action only."""
    events = AuditEvent.objects.filter(tenant=tenant).exclude(target_type__in=leave_out_target_types)
    return events.filter(action=action) if action else events


def action_choices(events: QuerySet[AuditEvent]) -> list[tuple[str, str]]:
    """The actions present in ``events``, each with its sentence, for a filter."""
    codes = events.order_by().values_list("action", flat=True).distinct()
    return sorted(((code, str(AuditAction(code).label)) for code in codes if code in AuditAction.values), key=lambda c: c[1])
