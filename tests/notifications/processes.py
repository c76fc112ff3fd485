"""Celery workers and beats as processes of their own, on the test database and a broker of the test's
own, with ``tests.notifications.process_settings``: what the fault tests kill, slow down and count."""

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

import psycopg
from django.db import connection

REPO = Path(__file__).resolve().parents[2]


def wait_for(predicate, timeout=10.0, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def database_settings():
    s = connection.settings_dict
    return {
        "host": s["HOST"] or "127.0.0.1",
        "port": int(s["PORT"] or 5432),
        "dbname": s["NAME"],
        "user": s["USER"],
        "password": s["PASSWORD"],
    }


def database(**kwargs):
    """A connection of the test's own to the test database (autocommit unless told)."""
    return psycopg.connect(**{**database_settings(), "autocommit": True, **kwargs})


class CeleryProcess:
    """``celery -A portal <command>`` with the process settings; its output in ``log_dir``."""

    def __init__(self, name, command, broker_url, log_dir, *, db_port=None, env=None):
        self.name = name
        # How the test finds this process's backend in pg_stat_activity (unique: others run these tests too).
        self.application_name = f"{name}-{os.getpid()}"
        self.log_path = log_dir / f"{name}.log"
        s = database_settings()
        database_url = (
            f"postgres://{quote(s['user'])}:{quote(s['password'] or '')}@{s['host']}:{db_port or s['port']}/{s['dbname']}"
            f"?application_name={self.application_name}"
        )
        environment = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.notifications.process_settings",
            "TEST_DATABASE_URL": database_url,
            "TEST_CELERY_BROKER_URL": broker_url,
            "CELERY_SKIP_CHECKS": "1",
            "PYTHONUNBUFFERED": "1",
            **(env or {}),
        }
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "celery", "-A", "portal", *command, "--loglevel", "INFO"],
                cwd=REPO,
                env=environment,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def log(self):
        return self.log_path.read_text(errors="replace")

    def count(self, pattern):
        return len(re.findall(pattern, self.log()))

    def alive(self):
        if self.process.poll() is not None:
            raise AssertionError(f"{self.name} exited with {self.process.returncode}:\n{self.log()}")
        return True

    def kill(self):
        """SIGKILL to the whole process group: no shutdown, no ack, nothing recorded."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(5)

    def stop(self):
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()


def worker(name, queues, broker_url, log_dir, *, pool="solo", **kwargs):
    command = ["worker", "-Q", queues, "--pool", pool, "--concurrency", "1", "-n", f"{name}@%h"]
    command += ["--without-mingle", "--without-gossip", "--without-heartbeat"]
    return CeleryProcess(name, command, broker_url, log_dir, **kwargs)


def beat(name, broker_url, log_dir, **kwargs):
    return CeleryProcess(name, ["beat", "--schedule", str(log_dir / f"{name}-schedule")], broker_url, log_dir, **kwargs)


def ready(process):
    return process.alive() and " ready." in process.log()


def terminate_backends(processes):
    """End the database sessions a killed process left behind (they would block the flush of transactional_db)."""
    with database() as db:
        db.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND application_name = ANY(%s)",
            [[p.application_name for p in processes]],
        )


def backends(process):
    """(pid, state, wait_event_type) of each database session of ``process``."""
    with database() as db:
        return db.execute(
            "SELECT pid, state, wait_event_type FROM pg_stat_activity WHERE datname = current_database() AND application_name = %s",
            [process.application_name],
        ).fetchall()
