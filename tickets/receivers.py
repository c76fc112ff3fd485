"""What tickets does when another app tells it something (connected in TicketsConfig.ready)."""

from typing import Any

from notifications.models import OutboxMessage
from notifications.services import outbox_failure_alert

from .selectors import support_supervisors


def supervisors_told_of_failed_email(sender: Any, *, message: OutboxMessage, **kwargs: Any) -> None:
    """An email failed for good (notifications.signals.outbox_failed): every supervisor hears of it, in
    the same transaction, and can send it again from the admin."""
    for supervisor in support_supervisors():
        outbox_failure_alert(failed=message, to_email=supervisor.email, language=supervisor.preferred_language)
