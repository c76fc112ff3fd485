"""Thin, idempotent delivery tasks: they take ids and call the outbox service."""

from celery import shared_task
from django.db import OperationalError

from . import services


# Only a database hiccup (nothing recorded) is retried here. A failed send is recorded on the row
# and retried by beat's outbox_resend_pending with a growing backoff, so that retries are counted
# once and a long SMTP outage spends its attempts over about a day.
@shared_task(bind=True, autoretry_for=(OperationalError,), retry_backoff=5, retry_jitter=True, max_retries=5)
def outbox_deliver(self, message_id: int) -> None:
    services.outbox_deliver_message(message_id=message_id)


@shared_task
def outbox_resend_pending() -> int:
    return services.outbox_resend_pending()
