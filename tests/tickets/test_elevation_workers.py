"""The elevation takes effect exactly once with real Celery workers: when two beat runs overlap, and when
a worker is killed in the middle of the completion.

Two ``celery worker`` processes run against the test database and a Redis of the test's own. The test's
own connection holds a row lock on the promoted user's membership, so that the workers stop *inside* the
completion's transaction, where the test can see them (``pg_stat_activity``) before letting them go on.
"""

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

import psycopg
import pytest
from django.db import connection

from accounts.models import Membership, User
from audit.models import AuditEvent
from notifications.models import OutboxMessage
from portal.clock import now
from tests import factories
from tickets.models import Elevation, Status
from tickets.tasks import elevations_complete_due

from .flow import approve, proposed_request

pytestmark = pytest.mark.skipif(shutil.which("redis-server") is None, reason="needs redis-server")

REPO = Path(__file__).resolve().parents[2]
TASK = "tickets.tasks.elevations_complete_due"
FINISHED = re.compile(re.escape(TASK) + r"\[[^\]]+\] (?:succeeded in [\d.e-]+s: (?P<result>\S+)|(?P<failed>raised .*))")


def _wait_for(predicate, timeout=10.0, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def _database_settings():
    s = connection.settings_dict
    return {
        "host": s["HOST"] or "127.0.0.1",
        "port": s["PORT"] or 5432,
        "dbname": s["NAME"],
        "user": s["USER"],
        "password": s["PASSWORD"],
    }


class Worker:
    """One ``celery worker`` process (solo pool: the task runs in the process we can kill)."""

    def __init__(self, name, broker_url, log_dir):
        self.name = name
        # How the test finds this worker's backend in pg_stat_activity (unique: others run this test too).
        self.application_name = f"{name}-{os.getpid()}"
        self.log_path = log_dir / f"{name}.log"
        s = _database_settings()
        # The test database pytest-django created, not the one in the caller's TEST_DATABASE_URL.
        database_url = (
            f"postgres://{quote(s['user'])}:{quote(s['password'] or '')}@{s['host']}:{s['port']}/{s['dbname']}"
            f"?application_name={self.application_name}"
        )
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "portal.settings.test",
            "TEST_DATABASE_URL": database_url,
            "TEST_CELERY_BROKER_URL": broker_url,
            "PYTHONUNBUFFERED": "1",
        }
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "celery",
                    "-A",
                    "portal",
                    "worker",
                    "--pool",
                    "solo",
                    "--concurrency",
                    "1",
                    "-Q",
                    "periodic",
                    "-n",
                    f"{name}@%h",
                    "--loglevel",
                    "INFO",
                    "--without-mingle",
                    "--without-gossip",
                    "--without-heartbeat",
                ],
                cwd=REPO,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def log(self):
        return self.log_path.read_text(errors="replace")

    def received(self):
        """How many completion tasks this worker took off the queue."""
        return len(re.findall(re.escape(f"Task {TASK}[") + r"[^\]]+\] received", self.log()))

    def results(self):
        """What each finished completion task returned (or "raised ...")."""
        return [m["result"] if m["result"] is not None else m["failed"] for m in FINISHED.finditer(self.log())]

    def ready(self):
        if self.process.poll() is not None:
            raise AssertionError(f"worker {self.name} exited with {self.process.returncode}:\n{self.log()}")
        return " ready." in self.log()

    def kill(self):
        """SIGKILL: no shutdown, no ack, no rollback sent to PostgreSQL."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(5)

    def terminate(self):
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)

    def stop(self):
        self.terminate()
        try:
            self.process.wait(5)
        except subprocess.TimeoutExpired:
            self.kill()


@pytest.fixture
def workers(transactional_db, private_broker, tmp_path):
    """Start two workers (w1, w2) on the test's broker and database; always stopped afterwards."""
    started = [Worker(name, private_broker.url, tmp_path) for name in ("w1", "w2")]
    try:
        yield started
    finally:
        for worker in started:  # all at once: a warm shutdown takes a moment
            worker.terminate()
        for worker in started:
            worker.stop()
        with psycopg.connect(**_database_settings(), autocommit=True) as db:
            # A backend left behind by a killed worker would block the flush of transactional_db.
            db.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND application_name = ANY(%s)",
                [[w.application_name for w in started]],
            )
        for worker in started:  # shown by pytest when the test failed
            print(f"--- {worker.name} ---\n{worker.log()}")


class RowLock:
    """A connection of the test's own holding ``SELECT ... FOR UPDATE`` on one row until released."""

    def __init__(self, table, pk):
        self.db = psycopg.connect(**_database_settings(), application_name="lock-holder")
        self.pid = self.db.info.backend_pid
        self.db.execute(f"SELECT 1 FROM {table} WHERE id = %s FOR UPDATE", [pk])  # opens the transaction

    def release(self):
        if not self.db.closed:
            self.db.rollback()
            self.db.close()


def _waiting_workers(workers):
    """The workers' backends waiting for a lock: {worker: (pid, [pids blocking it])}."""
    by_name = {w.application_name: w for w in workers}
    with psycopg.connect(**_database_settings(), autocommit=True) as db:
        rows = db.execute(
            "SELECT application_name, pid, pg_blocking_pids(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND application_name = ANY(%s) AND wait_event_type = 'Lock'",
            [list(by_name)],
        ).fetchall()
    return {by_name[name]: (pid, blockers) for name, pid, blockers in rows}


def _writes_pending(pid, table):
    """Whether backend ``pid`` has inserted or updated rows of ``table`` (not yet committed)."""
    with psycopg.connect(**_database_settings(), autocommit=True) as db:
        return db.execute(
            "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE pid = %s AND relation = %s::regclass AND mode = 'RowExclusiveLock')",
            [pid, table],
        ).fetchone()[0]


def _backend_alive(pid):
    with psycopg.connect(**_database_settings(), autocommit=True) as db:
        return db.execute("SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE pid = %s)", [pid]).fetchone()[0]


def _due_request_for_member(*, active):
    """An approved elevation of an existing member of the tenant, its waiting period already over.

    ``effective_at`` is moved in the database: the workers cannot see ``portal.clock.travel``.
    """
    agent, supervisor = factories.agent(), factories.supervisor()
    sr = proposed_request(agent)
    member = factories.MembershipFactory(tenant=sr.tenant, user=factories.UserFactory(email=sr.elevate_email))
    approve(sr, supervisor)
    if not active:  # deactivated once approved: the completion reactivates the account before the role
        User.objects.filter(pk=member.user_id).update(is_active=False)
    Elevation.objects.filter(service_request=sr).update(effective_at=now() - timedelta(seconds=1))
    return sr, member


def _all_finished(workers, count):
    def check():
        results = [r for w in workers for r in w.results()]
        return results if len(results) >= count else None

    return check


def _assert_elevated_exactly_once(sr, member):
    sr.refresh_from_db()
    assert sr.status == Status.ELEVATED
    elevation = Elevation.objects.get(service_request=sr)
    assert elevation.completed_at is not None and elevation.user_id == member.user_id
    assert AuditEvent.objects.filter(action="elevation.completed").count() == 1
    assert list(AuditEvent.objects.filter(action="role.changed").values_list("before__role", "after__role")) == [
        ("member", "global_admin")
    ]
    assert AuditEvent.objects.filter(action="status.changed", after__status=Status.ELEVATED).count() == 1
    assert list(Membership.objects.filter(tenant=sr.tenant).values_list("user_id", "role")) == [(member.user_id, "global_admin")]
    assert OutboxMessage.objects.filter(template="elevated_new_admin").count() == 1


def test_overlapping_beat_runs_on_two_workers_elevate_exactly_once(workers):
    w1, w2 = workers
    sr, member = _due_request_for_member(active=True)
    _wait_for(lambda: w1.ready() and w2.ready(), timeout=15, what="both workers ready")

    # Hold the member's row so that whoever gets in first stops inside the completion, and the second
    # worker arrives while the first is still there: the two beat runs really overlap.
    lock = RowLock("accounts_membership", member.pk)
    try:
        for _ in range(4):
            elevations_complete_due.apply_async()
        waiting = _wait_for(lambda: len(w := _waiting_workers(workers)) == 2 and w, what="both workers inside")
    finally:
        lock.release()

    results = _wait_for(_all_finished(workers, 4), what="the four runs to finish")
    assert w1.received() >= 1 and w2.received() >= 1, "both workers took a run"
    assert lock.pid in [pid for _, blockers in waiting.values() for pid in blockers]
    _assert_elevated_exactly_once(sr, member)
    assert sorted(results) == ["0", "0", "0", "1"], f"one run elevates, the others find nothing to do: {results}"
    assert AuditEvent.objects.filter(action="user.reactivated").count() == 0


def test_a_worker_killed_mid_completion_leaves_nothing_and_the_next_run_elevates_once(workers):
    sr, member = _due_request_for_member(active=False)
    user = User.objects.get(pk=member.user_id)
    _wait_for(lambda: all(w.ready() for w in workers), timeout=15, what="both workers ready")

    lock = RowLock("accounts_membership", member.pk)
    try:
        elevations_complete_due.apply_async()
        waiting = _wait_for(lambda: _waiting_workers(workers), what="a worker inside the completion")
        [(victim, (backend, blockers))] = waiting.items()
        assert blockers == [lock.pid]
        survivor = next(w for w in workers if w is not victim)
        # Half-way? The account reactivated in its open transaction (user row and audit event), the role not yet.
        half_way = _writes_pending(backend, "accounts_user") and _writes_pending(backend, "audit_auditevent")
        victim.kill()
    finally:
        lock.release()
    # The killed worker's backend ends (rolling back) once its statement gets the row and finds no client.
    _wait_for(lambda: not _backend_alive(backend), what="the killed worker's transaction to end")

    sr.refresh_from_db()
    assert sr.status == Status.COOLING_OFF
    elevation = Elevation.objects.get(service_request=sr)
    assert elevation.completed_at is None and elevation.user_id is None
    assert Membership.objects.get(pk=member.pk).role == "member"
    after_kill = User.objects.get(pk=user.pk)
    assert not after_kill.is_active and after_kill.password == user.password, "the reactivation was rolled back"
    assert not AuditEvent.objects.filter(action__in=["user.reactivated", "role.changed", "elevation.completed"]).exists()
    assert not AuditEvent.objects.filter(action="status.changed", after__status=Status.ELEVATED).exists()
    assert not OutboxMessage.objects.filter(template="elevated_new_admin").exists()
    assert victim.results() == [], "the killed worker finished nothing"
    assert half_way, "the worker was killed after writing, inside its transaction (else this proves little)"

    # Beat runs again (twice, overlapping with nothing now): the surviving worker elevates, once.
    elevations_complete_due.apply_async()
    elevations_complete_due.apply_async()
    results = _wait_for(_all_finished([survivor], 2), what="the survivor's runs")
    _assert_elevated_exactly_once(sr, member)
    assert sorted(results) == ["0", "1"], results
    reactivated = User.objects.get(pk=user.pk)
    assert reactivated.is_active and not reactivated.has_usable_password()
    assert AuditEvent.objects.filter(action="user.reactivated").count() == 1
