"""Thin, idempotent delivery tasks: they take ids and call the outbox service."""

import smtplib

from celery import shared_task
from django.db import OperationalError

from . import services


@shared_task(
    bind=True,
    autoretry_for=(smtplib.SMTPException, OSError, OperationalError),
    retry_backoff=10,
    retry_backoff_max=600,
    retry_jitter=True,
    max_retries=8,
)
def outbox_deliver(self, message_id: int) -> None:
    services.outbox_deliver_message(message_id=message_id)


@shared_task
def outbox_resend_pending() -> int:
    return services.outbox_resend_pending()
