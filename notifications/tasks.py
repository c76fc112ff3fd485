"""Thin, idempotent delivery tasks: they take ids and call the outbox service."""

from celery import shared_task
from django.conf import settings
from django.db import OperationalError

from . import services

# Only a database hiccup is retried here. A failed send is recorded on the row and tried again by beat's
# outbox_resend_pending after a growing backoff; a copy of the task for a row not yet due does nothing.
# The time limits stop a slow SMTP server from holding a worker: the soft one ends the send (recorded
# as a failed try), the hard one kills the process (the row's claim expires and it is tried again).
_delivery = {
    "autoretry_for": (OperationalError,),
    "retry_backoff": 5,
    "retry_jitter": True,
    "max_retries": 5,
    "soft_time_limit": settings.OUTBOX_DELIVERY_SOFT_TIME_LIMIT,
    "time_limit": settings.OUTBOX_DELIVERY_TIME_LIMIT,
}


@shared_task(bind=True, **_delivery)
def outbox_deliver(self, message_id: int) -> None:
    services.outbox_deliver_messages(message_ids=[message_id])


@shared_task(bind=True, **_delivery)
def outbox_deliver_batch(self, message_ids: list[int]) -> int:
    return services.outbox_deliver_messages(message_ids=message_ids)


@shared_task
def outbox_resend_pending() -> int:
    return services.outbox_resend_pending()


@shared_task
def outbox_prune_sent() -> int:
    return services.outbox_prune_sent()
