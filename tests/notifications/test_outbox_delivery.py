"""Notifications survive a broker outage: rows stay pending, then a real worker sends them."""

import shutil
import time
from datetime import timedelta

import pytest
from celery.contrib.testing.worker import start_worker
from django.core import mail

from notifications.models import OutboxMessage
from portal.celery import app as celery_app
from tests import factories
from tests.helpers import submit

pytestmark = pytest.mark.skipif(shutil.which("redis-server") is None, reason="needs redis-server")


def _wait_for(predicate, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def test_email_is_delivered_by_a_real_worker(transactional_db, client, private_broker):
    tenant = factories.TenantFactory()
    with start_worker(celery_app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        assert submit(client, tenant).status_code == 302
        assert _wait_for(lambda: any("claire@" + tenant.primary_domain in m.to for m in mail.outbox))
    message = OutboxMessage.objects.get(template="confirm_email")
    assert message.status == "sent" and message.attempts == 1
    assert message.secrets == {}, "the confirmation link is not kept once sent"


def test_notifications_survive_a_broker_outage(transactional_db, client, private_broker, settings):
    broker = private_broker
    tenant = factories.TenantFactory()
    broker.stop()

    # The requester files while the broker is down: no error, the email waits in the outbox.
    response = submit(client, tenant)
    assert response.status_code == 302
    assert client.get("/healthz").status_code == 503
    message = OutboxMessage.objects.get(template="confirm_email")
    assert message.status == "pending"
    assert mail.outbox == []

    # The broker comes back; beat's periodic task re-sends what is stuck, a real worker delivers it.
    broker.start()
    settings.OUTBOX_RESEND_AFTER = timedelta(0)
    with start_worker(celery_app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        celery_app.send_task("notifications.tasks.outbox_resend_pending")
        assert _wait_for(lambda: OutboxMessage.objects.get(pk=message.pk).status == "sent")
    assert [m.subject for m in mail.outbox if m.to == [f"claire@{tenant.primary_domain}"]]
    assert len([m for m in mail.outbox if m.to == [f"claire@{tenant.primary_domain}"]]) == 1, "sent exactly once"
