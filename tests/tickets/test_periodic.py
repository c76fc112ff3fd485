"""What Celery beat does on its own: expire unconfirmed requests, alert on overdue ones, re-send stuck emails."""

import base64
import json
from datetime import timedelta

import pytest
import redis
from django.conf import settings

from audit.models import AuditEvent
from notifications import tasks as notification_tasks
from notifications.models import OutboxMessage
from notifications.services import outbox_enqueue
from portal.celery import app as celery_app
from portal.clock import now, travel
from tests import factories
from tests.conftest import actor, emails_to
from tickets import services, tasks
from tickets.models import Status
from tickets.workflow import DomainError

MINUTE = timedelta(minutes=1)


def run(task):
    """Run a beat task as a worker would, here and now, and return its result."""
    return task.apply().get()


def confirmed_request(**kwargs):
    sr, raw = factories.confirmable_request(**kwargs)
    services.service_request_confirm_email(reference=sr.reference, token=raw)
    sr.refresh_from_db()
    return sr


def _written():
    return AuditEvent.objects.count(), OutboxMessage.objects.count()


def test_every_beat_entry_names_a_registered_task():
    celery_app.loader.import_default_modules()
    for entry in settings.CELERY_BEAT_SCHEDULE.values():
        assert entry["task"] in celery_app.tasks, entry


# --- Unconfirmed requests expire ---------------------------------------------------------------------------------


def test_a_request_unconfirmed_for_a_day_expires_and_the_requester_is_told(db, deliver):
    stale = factories.ServiceRequestFactory()
    confirmed = confirmed_request()
    assert stale.status == Status.AWAITING_EMAIL_CONFIRMATION

    with travel(timedelta(hours=23)):
        assert run(tasks.service_requests_expire_unconfirmed) == 0
    stale.refresh_from_db()
    assert stale.status == Status.AWAITING_EMAIL_CONFIRMATION

    with travel(timedelta(hours=25)):
        assert run(tasks.service_requests_expire_unconfirmed) == 1
        stale.refresh_from_db()
        assert stale.status == Status.EXPIRED
        assert stale.closed_at is not None and stale.closed_at > now() - MINUTE
        confirmed.refresh_from_db()
        assert confirmed.status == Status.NEW, "a confirmed request is left alone"
        event = AuditEvent.objects.get(action="status.changed", target_id=str(stale.pk))
        assert event.actor is None and event.actor_label == "system"

        deliver()
        [told] = emails_to(stale.requester_email)
        assert "expired" in told.body.lower() and stale.reference in told.subject

        written = _written()
        assert run(tasks.service_requests_expire_unconfirmed) == 0
        assert _written() == written, "running again changes nothing"
    stale.refresh_from_db()
    assert stale.status == Status.EXPIRED


def test_an_expired_request_can_no_longer_be_confirmed(db):
    sr, raw = factories.confirmable_request()
    with travel(timedelta(hours=25)):
        run(tasks.service_requests_expire_unconfirmed)
        with pytest.raises(DomainError, match="not valid"):
            services.service_request_confirm_email(reference=sr.reference, token=raw)
    sr.refresh_from_db()
    assert sr.status == Status.EXPIRED


# --- Overdue requests alert the supervisors once -----------------------------------------------------------------


def _sla_alerts():
    return sorted(OutboxMessage.objects.filter(template="sla_overdue").values_list("target_id", "to_email"))


def test_a_request_past_its_sla_alerts_every_supervisor_once(db, deliver):
    supervisors = [factories.supervisor(), factories.supervisor()]
    agent = factories.agent()
    factories.supervisor(is_active=False)
    late = confirmed_request()
    assert late.sla_due_at == late.email_confirmed_at + settings.SERVICE_REQUEST_SLA
    services.service_request_assign(service_request=late, actor=actor(agent))

    with travel(settings.SERVICE_REQUEST_SLA - MINUTE):
        assert run(tasks.service_requests_alert_overdue) == 0
    assert _sla_alerts() == []

    with travel(settings.SERVICE_REQUEST_SLA + MINUTE):
        assert run(tasks.service_requests_alert_overdue) == 1
        assert _sla_alerts() == sorted((str(late.pk), s.email) for s in supervisors)
        late.refresh_from_db()
        assert late.sla_alerted_at is not None
        deliver()
        alert = emails_to(supervisors[0].email)[-1]
        assert late.reference in alert.subject and agent.email in alert.body

        written = _written()
        assert run(tasks.service_requests_alert_overdue) == 0
        assert _written() == written

    with travel(settings.SERVICE_REQUEST_SLA * 3):
        assert run(tasks.service_requests_alert_overdue) == 0
    assert len(_sla_alerts()) == len(supervisors), "each supervisor hears of it once"


def test_a_request_waiting_on_the_requester_is_not_overdue(db):
    factories.supervisor()
    agent = factories.agent()
    waiting = confirmed_request()
    services.service_request_ask_information(service_request=waiting, actor=actor(agent), body="Send your ID.")
    waiting.refresh_from_db()
    assert waiting.status == Status.WAITING_ON_REQUESTER

    with travel(settings.SERVICE_REQUEST_SLA * 2):
        assert run(tasks.service_requests_alert_overdue) == 0
    assert _sla_alerts() == []


@pytest.mark.parametrize("status", [Status.ELEVATED, Status.REJECTED, Status.CANCELLED])
def test_a_closed_request_is_not_overdue(db, status):
    factories.supervisor()
    factories.ServiceRequestFactory(status=status, sla_due_at=now() - timedelta(days=3))
    assert run(tasks.service_requests_alert_overdue) == 0
    assert _sla_alerts() == []


# --- Stuck emails are handed to the broker again -----------------------------------------------------------------


def dispatched(broker):
    """Ids of the outbox messages waiting in the broker's notifications queue for a worker."""
    ids = []
    for raw in redis.Redis(host="127.0.0.1", port=broker.port).lrange("notifications", 0, -1):
        message = json.loads(raw)
        assert message["headers"]["task"] == "notifications.tasks.outbox_deliver_batch"
        args, _kwargs, _embed = json.loads(base64.b64decode(message["body"]))
        ids.extend(args[0])
    return sorted(ids)


def _enqueue(to, status=OutboxMessage.Status.PENDING):
    message = outbox_enqueue(
        template="tracking_link", to_email=to, context={"reference": "SR-TEST-0001"}, secrets={"tracking_url": "http://testserver/x"}
    )
    OutboxMessage.objects.filter(pk=message.pk).update(status=status)
    return message


def test_only_messages_pending_for_long_enough_are_dispatched_again(db, private_broker):
    stuck = _enqueue("stuck@example.org")
    _enqueue("sent@example.org", OutboxMessage.Status.SENT)
    _enqueue("failed@example.org", OutboxMessage.Status.FAILED)
    assert run(notification_tasks.outbox_resend_pending) == 0, "too recent: its own dispatch may be on its way"
    assert dispatched(private_broker) == []

    with travel(settings.OUTBOX_RESEND_AFTER + MINUTE):
        fresh = _enqueue("fresh@example.org")
        assert run(notification_tasks.outbox_resend_pending) == 1

    assert dispatched(private_broker) == [stuck.pk]
    assert fresh.pk not in dispatched(private_broker)
    assert OutboxMessage.objects.get(pk=stuck.pk).status == OutboxMessage.Status.PENDING, (
        "the worker, not the dispatcher, marks it sent"
    )


def test_a_requester_answer_restarts_the_sla_and_its_alert(db, agent, supervisor, settings):
    from datetime import timedelta

    from portal.clock import travel
    from tests.conftest import actor
    from tickets import services
    from tickets.models import ServiceRequest

    tenant = factories.TenantFactory()
    sr = factories.ServiceRequestFactory(
        tenant_on_record=tenant, tenant=tenant, status="in_review", sla_due_at=now() + timedelta(hours=1)
    )
    services.service_request_ask_information(service_request=sr, actor=actor(agent), body="Send your ID")
    with travel(settings.SERVICE_REQUEST_SLA * 2):
        services.service_request_requester_reply(service_request=sr, body="Here it is")
        sr = ServiceRequest.objects.get(pk=sr.pk)
        assert sr.status == "in_review"
        assert sr.sla_due_at > now() + settings.SERVICE_REQUEST_SLA - timedelta(minutes=1)
        assert services.service_requests_alert_overdue() == 0
