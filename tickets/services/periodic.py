"""Work done by Celery beat: expiring unconfirmed requests and alerting on overdue ones."""

from django.conf import settings
from django.db import transaction

from audit.services import Actor
from portal.clock import now

from ..models import ServiceRequest, Status
from ..notify import to_users
from ..selectors import overdue_q, support_supervisors
from ..workflow import SYSTEM, TransitionError, transition


def service_requests_expire_unconfirmed() -> int:
    """Expire requests whose email was not confirmed within the window. Idempotent."""
    cutoff = now() - settings.SERVICE_REQUEST_CONFIRMATION_WINDOW
    count = 0
    for pk in ServiceRequest.objects.filter(status=Status.AWAITING_EMAIL_CONFIRMATION, created_at__lt=cutoff).values_list(
        "pk", flat=True
    ):
        try:
            transition(ServiceRequest(pk=pk), Status.EXPIRED, actor=Actor.system(), role=SYSTEM)
            count += 1
        except TransitionError:  # confirmed meanwhile
            pass
    return count


def service_requests_alert_overdue() -> int:
    """Tell supervisors once about each request past its SLA. Idempotent (``sla_alerted_at``)."""
    count = 0
    for pk in ServiceRequest.objects.filter(overdue_q(), sla_alerted_at__isnull=True).values_list("pk", flat=True):
        with transaction.atomic():
            sr = ServiceRequest.objects.select_for_update().get(pk=pk)
            if sr.sla_alerted_at is not None:
                continue
            sr.sla_alerted_at = now()
            sr.save(update_fields=["sla_alerted_at"])
            to_users(
                support_supervisors(),
                sr,
                "sla_overdue",
                assignee=sr.assignee.email if sr.assignee else "",
                due=sr.sla_due_at.isoformat() if sr.sla_due_at else "",
            )
            count += 1
    return count
