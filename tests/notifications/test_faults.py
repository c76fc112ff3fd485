"""Delivery under faults, with real processes: Celery workers and beats of the test's own (processes.py) on
a Redis of its own, an SMTP server of its own that drags, holds or counts (tests/smtp_server.py).

Every test counts what reached the SMTP server by Message-ID: nothing lost, and a message that arrived
twice arrived with the same Message-ID, so that the recipient's mail system can drop the copy.
"""

import shutil
import time

import pytest
import redis
from django.db import transaction

from notifications.models import OutboxMessage
from notifications.services import outbox_enqueue, outbox_resend_pending
from portal.clock import now
from tests.proxy import TCPProxy
from tickets import tasks as ticket_tasks

from .processes import backends, beat, database, database_settings, ready, terminate_backends, wait_for, worker

pytestmark = pytest.mark.skipif(shutil.which("redis-server") is None, reason="needs redis-server")

SOFT_LIMIT = 2  # process_settings.OUTBOX_DELIVERY_SOFT_TIME_LIMIT


@pytest.fixture(autouse=True)
def _short_time_limits(monkeypatch):
    """The limits travel with each task message, set by the publisher (here, the test): the workers' own."""
    from notifications import tasks

    from . import process_settings

    for task in (tasks.outbox_deliver, tasks.outbox_deliver_batch):
        monkeypatch.setattr(task, "soft_time_limit", process_settings.OUTBOX_DELIVERY_SOFT_TIME_LIMIT)
        monkeypatch.setattr(task, "time_limit", process_settings.OUTBOX_DELIVERY_TIME_LIMIT)
        monkeypatch.setattr(task, "_exec_options", None)  # Celery caches them at the first publish


@pytest.fixture
def processes(transactional_db, private_broker):
    """Start processes with ``processes.append(...)``; all are stopped (before their broker), and their
    sessions ended, afterwards."""
    started = []
    yield started
    for process in started:
        process.kill()  # the test is over: no need to wait for a warm shutdown
    terminate_backends(started)
    for process in started:  # shown by pytest when the test failed
        print(f"--- {process.name} ---\n{process.log()}")


def _file(to="claire@fabrikam.example"):
    """An email written with a change, handed to the broker on commit, as a filing does."""
    with transaction.atomic():
        message = outbox_enqueue(template="rejected", to_email=to, context={"reference": "SR-FAULT-0001", "reason": "test"})
    return message


def _status(message):
    return OutboxMessage.objects.get(pk=message.pk).status


def _message_id(message):
    return f"<outbox-{message.pk}@localhost>"


def test_a_slow_smtp_server_is_cut_short_and_periodic_work_goes_on(processes, private_broker, smtp_server, tmp_path):
    """One byte every half second: each read succeeds, the send never ends. The soft time limit ends it,
    no transaction or row lock is held meanwhile, and beat's jobs run on their own queue."""
    smtp_server.slow = 0.5
    env = {"TEST_SMTP_PORT": str(smtp_server.port)}
    mailer = worker("mailer", "notifications", private_broker.url, tmp_path, pool="prefork", env=env)
    periodic = worker("periodic", "periodic", private_broker.url, tmp_path, env=env)
    processes += [mailer, periodic]
    wait_for(lambda: ready(mailer) and ready(periodic), timeout=30, what="both workers ready")

    message = _file()
    started = time.monotonic()
    wait_for(lambda: smtp_server.connections == 1, what="the worker at the SMTP server")

    # While the send drags: the row is claimed, nobody holds it, the worker has no transaction open.
    with database(autocommit=False) as db:
        row = db.execute("SELECT status, attempts FROM notifications_outboxmessage WHERE id = %s FOR UPDATE NOWAIT", [message.pk])
        assert row.fetchone() == ("sending", 1)
        db.rollback()
    assert [state for _pid, state, _wait in backends(mailer)] == ["idle"], "no transaction open while sending"

    # Beat's jobs are not queued behind the email.
    ticket_tasks.service_requests_expire_unconfirmed.apply_async()
    wait_for(lambda: periodic.count(r"service_requests_expire_unconfirmed\[[^\]]+\] succeeded"), timeout=10, what="the periodic job")
    assert _status(message) == "sending" and smtp_server.received == [], "the email was still dragging meanwhile"

    # The soft limit ends the send: one failed attempt, recorded; the row waits out its backoff.
    wait_for(lambda: _status(message) == "pending", timeout=SOFT_LIMIT + 5, what="the soft time limit")
    took = time.monotonic() - started
    assert took < SOFT_LIMIT + 2.5, f"the slow send held the worker {took:.1f}s"
    message.refresh_from_db()
    assert message.attempts == 1 and "SoftTimeLimitExceeded" in message.last_error
    assert (message.next_attempt_at - message.last_attempt_at).total_seconds() >= 180
    assert mailer.count("SoftTimeLimitExceeded") >= 1
    print(f"slow SMTP: the worker gave up after {took:.1f}s; the periodic job ran meanwhile")

    # The server recovers; once the backoff is over (moved in the database: the workers cannot see
    # portal.clock.travel), beat's run sends it, once.
    smtp_server.slow = 0
    OutboxMessage.objects.filter(pk=message.pk).update(next_attempt_at=now())
    assert outbox_resend_pending() == 1
    wait_for(lambda: _status(message) == "sent", timeout=10, what="the email sent")
    assert smtp_server.message_ids() == [_message_id(message)]


def test_a_worker_killed_after_the_smtp_accept_sends_again_with_the_same_message_id(processes, private_broker, smtp_server, tmp_path):
    """The SMTP server said "250 queued", then the worker died before it recorded the send: the claim
    expires, another worker sends the message again, with the same Message-ID."""
    env = {"TEST_SMTP_PORT": str(smtp_server.port), "TEST_OUTBOX_CLAIM_SECONDS": "2"}
    first = worker("first", "notifications", private_broker.url, tmp_path, env=env)
    processes.append(first)
    wait_for(lambda: ready(first), timeout=20, what="the first worker ready")

    smtp_server.hold()
    message = _file()
    wait_for(smtp_server.waiting.is_set, what="the message at the SMTP server")
    # The test takes the row (NOWAIT: the worker holds no lock while sending) so that the worker,
    # once the server accepts, stops at recording "sent", where the test can kill it.
    lock = database(autocommit=False)
    try:
        row = lock.execute("SELECT status, attempts FROM notifications_outboxmessage WHERE id = %s FOR UPDATE NOWAIT", [message.pk])
        assert row.fetchone() == ("sending", 1)
        smtp_server.release()
        wait_for(lambda: any(wait == "Lock" for _pid, _state, wait in backends(first)), what="the worker recording the send")
        assert smtp_server.message_ids() == [_message_id(message)], "accepted by the server"
        first.kill()
        terminate_backends([first])  # the process and its session die: "sent" is never committed
    finally:
        lock.rollback()
        lock.close()
    message.refresh_from_db()
    assert (message.status, message.attempts, message.sent_at) == ("sending", 1, None)

    second = worker("second", "notifications", private_broker.url, tmp_path, env=env)
    processes.append(second)
    wait_for(lambda: ready(second), timeout=20, what="the second worker ready")
    # Beat's run hands the row on again once its claim is 2 s old.
    wait_for(lambda: outbox_resend_pending() == 1, timeout=5, what="the claim to expire")
    wait_for(lambda: _status(message) == "sent", timeout=10, what="the email sent again")
    message.refresh_from_db()
    assert message.attempts == 2
    ids = smtp_server.message_ids()
    assert ids == [_message_id(message)] * 2, "nothing lost; the duplicate carries the same Message-ID"
    print(f"killed after the accept: {len(ids)} deliveries, {len(set(ids))} Message-ID")


def test_a_worker_keeps_its_database_connection_and_a_batch_its_smtp_connection(processes, private_broker, smtp_server, tmp_path):
    """20 delivery tasks open one database connection between them, not one each; beat's batch of 20 rows
    goes over one SMTP connection."""
    proxy = TCPProxy(database_settings()["port"]).start()  # counts the worker's connections to PostgreSQL
    try:
        env = {"TEST_SMTP_PORT": str(smtp_server.port)}
        mailer = worker("mailer", "notifications", private_broker.url, tmp_path, db_port=proxy.port, env=env)
        processes.append(mailer)
        wait_for(lambda: ready(mailer), timeout=20, what="the worker ready")
        opened_before = proxy.connections

        singles = [_file(to=f"single{i}@example.org") for i in range(20)]
        wait_for(lambda: all(_status(m) == "sent" for m in singles), timeout=20, what="20 emails sent")
        database_connections = proxy.connections - opened_before
        assert mailer.count(r"outbox_deliver\[[^\]]+\] succeeded") == 20
        assert database_connections <= 2, f"{database_connections} database connections for 20 tasks"
        assert smtp_server.connections == 20, "one task, one message, one SMTP connection"

        moment = now()
        batch = OutboxMessage.objects.bulk_create(  # not handed off on commit: beat finds them
            OutboxMessage(created_at=moment, next_attempt_at=moment, template="rejected", to_email=f"batch{i}@example.org")
            for i in range(20)
        )
        assert outbox_resend_pending() == 20
        wait_for(lambda: all(_status(m) == "sent" for m in batch), timeout=20, what="the batch sent")
        assert smtp_server.connections == 21, "the batch of 20 went over one SMTP connection"
        ids = smtp_server.message_ids()
        assert len(ids) == len(set(ids)) == 40
        print(f"20 tasks: {database_connections} database connection(s); a batch of 20: 1 SMTP connection")
    finally:
        proxy.stop()


def test_two_beats_started_by_mistake_send_each_job_once(private_broker, tmp_path, processes):
    every = 2
    env = {"TEST_BEAT_EVERY": str(every)}
    beats = [beat(name, private_broker.url, tmp_path, env=env) for name in ("beat1", "beat2")]
    processes += beats
    wait_for(lambda: all(b.alive() and "beat: Starting" in b.log() for b in beats), timeout=20, what="both beats started")
    started = time.monotonic()
    time.sleep(10)
    for b in beats:
        b.stop()
    elapsed = time.monotonic() - started

    queued = redis.Redis(port=private_broker.port).llen("periodic")
    sent = [b.count("Sending due task outbox-resend-pending") for b in beats]
    skipped = [b.count("skipped outbox-resend-pending") for b in beats]
    assert queued == sum(sent), "what the beats say they sent is what the broker holds"
    assert sum(skipped) >= 1, "the second beat did try"
    # One beat's worth (give or take a hand-over between them), not two: without the turns, about 2 × 5.
    assert elapsed / every - 2 <= queued <= elapsed / every + 2, (
        f"{queued} runs in {elapsed:.0f}s for a job every {every}s (sent {sent}, skipped {skipped})"
    )
    print(f"two beats, {elapsed:.0f}s, a job every {every}s: {queued} runs queued (sent {sent}, skipped {skipped})")
