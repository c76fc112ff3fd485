"""Delivery over real SMTP to a server of the test's own (tests/smtp_server.py): what an operator's relay sees."""

import contextlib
import threading
import time
from datetime import timedelta

import psycopg
import pytest
from django.core import mail
from django.template import TemplateDoesNotExist

from notifications import tasks
from notifications.models import OutboxMessage
from notifications.services import outbox_deliver_message, outbox_deliver_messages, outbox_enqueue, retry_delay
from portal.clock import now, travel
from tests import factories

from .processes import database


def _pending(to="claire@fabrikam.example", **fields):
    return OutboxMessage.objects.create(
        created_at=now(),
        next_attempt_at=now() + timedelta(minutes=3),
        template="rejected",
        to_email=to,
        language="fr",
        context={"reference": "SR-SMTP-0001", "requester_name": "Claire", "reason": "Numéro injoignable"},
        **fields,
    )


def _refused(settings):
    """The portal's SMTP server is down: nothing listens on its port."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 1, 2


def test_an_email_goes_out_over_smtp_with_both_parts_and_a_stable_message_id(db, settings, smtp):
    settings.OUTBOX_MESSAGE_ID_DOMAIN = "portal.example"
    message = _pending()
    outbox_deliver_message(message_id=message.pk)
    message.refresh_from_db()
    assert message.status == "sent" and message.attempts == 1 and message.claimed_at is None
    [raw] = smtp.received
    assert "To: claire@fabrikam.example" in raw
    assert "text/plain" in raw and "text/html" in raw
    assert smtp.message_ids() == [f"<outbox-{message.pk}@portal.example>"]
    assert mail.outbox == []


def test_the_message_id_domain_defaults_to_the_site_url_host():
    from django.conf import settings

    assert settings.OUTBOX_MESSAGE_ID_DOMAIN == "localhost"  # SITE_URL http://localhost:8000 in tests


def test_an_smtp_outage_keeps_the_email_pending_for_a_retry(db, settings):
    _refused(settings)
    message = _pending()
    with pytest.raises(OSError):
        outbox_deliver_message(message_id=message.pk)
    message.refresh_from_db()
    assert message.status == "pending" and message.attempts == 1 and "Connection" in message.last_error
    waits = message.next_attempt_at - message.last_attempt_at
    assert settings.OUTBOX_RESEND_AFTER <= waits < settings.OUTBOX_RESEND_AFTER + timedelta(seconds=5), "after its backoff"


def test_queued_copies_of_the_task_count_one_attempt_and_wait_for_the_backoff(db, settings, smtp_server):
    """After a worker outage, beat had queued one copy a minute: each copy is one real try only when due."""
    _refused(settings)
    message = _pending()
    for _ in range(30):
        with contextlib.suppress(OSError):
            tasks.outbox_deliver.apply(args=[message.pk])
    message.refresh_from_db()
    assert (message.status, message.attempts) == ("pending", 1), "one real try of the SMTP server, one attempt"

    # The server is back, but the backoff is not over: the copies still do nothing.
    settings.EMAIL_HOST, settings.EMAIL_PORT = smtp_server.server_address
    for _ in range(5):
        tasks.outbox_deliver.apply(args=[message.pk])
    assert smtp_server.received == [] and OutboxMessage.objects.get(pk=message.pk).attempts == 1

    with travel(retry_delay(1) + timedelta(seconds=1)):
        for _ in range(5):
            tasks.outbox_deliver.apply(args=[message.pk])
    message.refresh_from_db()
    assert (message.status, message.attempts) == ("sent", 2)
    assert len(smtp_server.received) == 1


def test_an_outage_spends_the_attempts_over_a_day_then_supervisors_are_told(db, settings):
    _refused(settings)
    supervisors = [factories.supervisor(email="sam@support.example"), factories.supervisor(email="sasha@support.example")]
    factories.agent(email="alex@support.example")
    message = _pending()
    started = now()
    elapsed = timedelta(0)
    for attempt in range(1, settings.OUTBOX_MAX_ATTEMPTS + 1):
        with travel(elapsed):
            with pytest.raises(OSError):
                outbox_deliver_message(message_id=message.pk)
            message.refresh_from_db()
            assert message.attempts == attempt
            if message.status == "failed":
                break
            elapsed = message.next_attempt_at - started
    assert message.status == "failed" and message.attempts == settings.OUTBOX_MAX_ATTEMPTS
    assert message.next_attempt_at is None
    assert elapsed > timedelta(hours=23), f"gave up after {elapsed}, not about a day"

    alerts = OutboxMessage.objects.filter(template="outbox_failed")
    assert sorted(alerts.values_list("to_email", flat=True)) == sorted(s.email for s in supervisors)
    assert {(a.target_type, a.target_id) for a in alerts} == {("notifications.outboxmessage", str(message.pk))}
    assert f"/notifications/outboxmessage/{message.pk}/" in alerts[0].context["admin_url"]

    # An alert that fails for good alerts nobody: no loop.
    alert = alerts[0]
    OutboxMessage.objects.filter(pk=alert.pk).update(attempts=settings.OUTBOX_MAX_ATTEMPTS - 1, next_attempt_at=now())
    with pytest.raises(OSError):
        outbox_deliver_message(message_id=alert.pk)
    assert OutboxMessage.objects.get(pk=alert.pk).status == "failed"
    assert alerts.count() == 2


def test_the_supervisors_alert_reads_well_in_both_languages(db, deliver):
    supervisor = factories.supervisor(email="sam@support.example", preferred_language="fr")
    failed = _pending(status="failed", attempts=30, last_error="ConnectionRefusedError(111)")
    from tickets.receivers import supervisors_told_of_failed_email

    supervisors_told_of_failed_email(OutboxMessage, message=failed)
    [email] = deliver()
    assert email.to == [supervisor.email]
    assert "rejected" in email.subject and "claire@fabrikam.example" in email.subject
    assert "30" in email.body and "ConnectionRefusedError" in email.body and "/admin/" in email.body
    assert "tentatives" in email.body, "in the supervisor's language"


def test_a_template_error_counts_as_an_attempt_and_the_batch_goes_on(db, smtp):
    broken = OutboxMessage.objects.create(created_at=now(), template="no_such_template", to_email="x@example.org")
    fine = _pending()
    with pytest.raises(TemplateDoesNotExist):
        outbox_deliver_messages(message_ids=[broken.pk, fine.pk])
    broken.refresh_from_db()
    assert broken.attempts == 1 and "no_such_template" in broken.last_error and broken.status == "pending"
    assert OutboxMessage.objects.get(pk=fine.pk).status == "sent"


def test_a_batch_sends_over_one_smtp_connection(db, smtp):
    messages = [_pending(to=f"user{i}@fabrikam.example") for i in range(10)]
    sent = outbox_deliver_messages(message_ids=[m.pk for m in messages])
    assert sent == 10
    assert smtp.connections == 1
    assert sorted(smtp.message_ids()) == sorted(f"<outbox-{m.pk}@localhost>" for m in messages)
    assert outbox_deliver_messages(message_ids=[m.pk for m in messages]) == 0, "idempotent: nothing sent twice"
    assert smtp.connections == 1, "nothing to send, no connection"


def test_a_hung_smtp_server_holds_no_lock_and_the_try_ends_with_the_timeout(transactional_db, smtp):
    """The server accepts and never answers: the send is bounded by EMAIL_TIMEOUT, the row is claimed (in a
    transaction already committed) and locked by nobody while the worker waits."""
    smtp.hang = True
    with_outbox = []

    def file():
        with_outbox.append(outbox_enqueue(template="rejected", to_email="claire@fabrikam.example", context={"reference": "SR-1"}))

    from django.db import transaction

    with transaction.atomic():
        file()
    [message] = with_outbox
    errors = []

    def send():
        try:
            outbox_deliver_message(message_id=message.pk)
        except Exception as exc:  # noqa: BLE001  (kept for the assertion below)
            errors.append(exc)

    started = time.monotonic()
    sender = threading.Thread(target=send)
    sender.start()
    try:
        deadline = time.monotonic() + 2
        while smtp.connections == 0 and time.monotonic() < deadline:
            time.sleep(0.02)
        with database(autocommit=False) as db:
            row = db.execute("SELECT status, attempts FROM notifications_outboxmessage WHERE id = %s FOR UPDATE NOWAIT", [message.pk])
            assert row.fetchone() == ("sending", 1), "claimed, and nobody holds the row while the server hangs"
            db.rollback()
    except psycopg.errors.LockNotAvailable:
        pytest.fail("the row stayed locked while the SMTP server hung")
    finally:
        sender.join(10)
    took = time.monotonic() - started
    assert 1.5 < took < 4, f"the hang ended after {took:.1f}s (EMAIL_TIMEOUT is 2)"
    assert errors and "timed out" in str(errors[0])
    message.refresh_from_db()
    assert (message.status, message.attempts, message.claimed_at) == ("pending", 1, None)
    assert "timed out" in message.last_error

    # The server recovers; once the backoff is over the email goes out, once.
    smtp.hang = False
    with travel(retry_delay(1)):
        outbox_deliver_message(message_id=message.pk)
    assert OutboxMessage.objects.get(pk=message.pk).status == "sent"
    assert smtp.message_ids() == [f"<outbox-{message.pk}@localhost>"]
