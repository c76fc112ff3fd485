"""Notifications survive a broker outage: rows stay pending, then a real worker sends them. Each test runs
once on Redis and once on RabbitMQ (``any_broker``)."""

import time
from datetime import timedelta

import pytest
from celery.contrib.testing.worker import start_worker
from django.core import mail

from notifications.models import OutboxMessage
from notifications.services import outbox_resend_pending
from portal.celery import app as celery_app
from portal.clock import now, travel
from tests import factories
from tests.helpers import submit


def _wait_for(predicate, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def test_email_is_delivered_by_a_real_worker(transactional_db, client, any_broker):
    tenant = factories.TenantFactory()
    with start_worker(celery_app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        assert submit(client, tenant).status_code == 302
        assert _wait_for(lambda: any("claire@" + tenant.primary_domain in m.to for m in mail.outbox))
    message = OutboxMessage.objects.get(template="confirm_email")
    assert message.status == "sent" and message.attempts == 1
    assert message.secrets == {}, "the confirmation link is not kept once sent"
    [email] = [m for m in mail.outbox if m.to == [f"claire@{tenant.primary_domain}"]]
    assert email.extra_headers["Message-ID"] == f"<outbox-{message.pk}@localhost>"


def test_notifications_survive_a_broker_outage(transactional_db, client, any_broker, settings):
    broker = any_broker
    tenant = factories.TenantFactory()
    broker.stop()

    # The requester files while the broker is down: no error, the email waits in the outbox.
    response = submit(client, tenant)
    assert response.status_code == 302
    assert client.get("/healthz").status_code == 503
    message = OutboxMessage.objects.get(template="confirm_email")
    assert message.status == "pending" and message.attempts == 0
    assert mail.outbox == []

    # The broker comes back; beat's periodic task re-sends what is stuck, a real worker delivers it.
    broker.start()
    with (
        travel(settings.OUTBOX_RESEND_AFTER + timedelta(seconds=1)),
        start_worker(celery_app, pool="solo", perform_ping_check=False, shutdown_timeout=10),
    ):
        celery_app.send_task("notifications.tasks.outbox_resend_pending")
        assert _wait_for(lambda: OutboxMessage.objects.get(pk=message.pk).status == "sent")
    assert len([m for m in mail.outbox if m.to == [f"claire@{tenant.primary_domain}"]]) == 1, "sent exactly once"


@pytest.mark.parametrize("any_broker", ["redis"], indirect=True)
def test_due_emails_are_found_first_however_many_are_waiting(db, any_broker, settings):
    """6,000 rows waiting out their backoff, older than a due one: beat hands the due one on, in batches."""
    import redis

    moment = now()
    waiting = OutboxMessage.objects.bulk_create(
        OutboxMessage(
            created_at=moment - timedelta(hours=2),
            next_attempt_at=moment + timedelta(minutes=30),
            attempts=5,
            template="rejected",
            to_email=f"w{i}@example.org",
        )
        for i in range(6000)
    )
    due = [
        OutboxMessage.objects.create(
            created_at=moment - timedelta(minutes=10),
            next_attempt_at=moment - timedelta(minutes=1),
            template="rejected",
            to_email=f"d{i}@x.org",
        )
        for i in range(3)
    ]
    settings.OUTBOX_BATCH_SIZE = 2
    assert outbox_resend_pending() == 3

    import base64
    import json

    queued = [json.loads(raw) for raw in redis.Redis(port=any_broker.port).lrange("notifications", 0, -1)]
    batches = [json.loads(base64.b64decode(m["body"]))[0][0] for m in reversed(queued)]
    assert batches == [[due[0].pk, due[1].pk], [due[2].pk]]
    assert waiting[0].pk not in sum(batches, [])
