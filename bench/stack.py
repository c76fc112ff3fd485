"""The bench's own stack: its PostgreSQL databases, its Redis databases (flushed at start, so that the rate
limits of an earlier run count for nothing), the portal's environment, and the servers it starts."""

import os
import subprocess
import sys
from pathlib import Path

import psycopg

from .procs import Processes, free_port, wait_for_port, wait_for_workers

ROOT = Path(__file__).resolve().parent.parent
VAR = ROOT / "var" / "bench"
PYTHON = sys.executable
BIN = Path(PYTHON).parent
PG = "postgres://postgres@127.0.0.1:5432"
REDIS_CACHE_DB, REDIS_BROKER_DB = 11, 12
PORTAL_DB, PEER_DB = "portal_bench", "helpdesk_bench"


def recreate_database(name: str) -> None:
    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def flush_redis() -> None:
    for db in (REDIS_CACHE_DB, REDIS_BROKER_DB):
        subprocess.run(["redis-cli", "-h", "127.0.0.1", "-n", str(db), "FLUSHDB"], check=True, capture_output=True)


def portal_env(smtp_port: int, web_port: int) -> dict:
    """What portal.settings.production needs, pointed at the bench's databases and sink."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_", "CELERY_", "TEST_"))}
    env.update(
        DJANGO_SETTINGS_MODULE="portal.settings.production",
        SECRET_KEY="bench-" + os.urandom(16).hex(),
        DATABASE_URL=f"{PG}/{PORTAL_DB}",
        CACHE_URL=f"rediscache://127.0.0.1:6379/{REDIS_CACHE_DB}",
        CELERY_BROKER_URL=f"redis://127.0.0.1:6379/{REDIS_BROKER_DB}",
        EMAIL_URL=f"smtp://127.0.0.1:{smtp_port}",
        SITE_URL=f"https://127.0.0.1:{web_port}",
        ALLOWED_HOSTS="127.0.0.1,localhost",
        CLIENT_IP_META_KEY="HTTP_X_BENCH_CLIENT",
        VAR_DIR=str(VAR / "portal"),
        LOG_LEVEL="WARNING",
        GUNICORN_MAX_REQUESTS="0",  # no recycling: the same workers for the whole run (CPU and RSS per pid)
        PYTHONPATH=str(ROOT),
        GROWTH_DATABASE="portal_bench_growth",  # bench/growth.py's own database, made and dropped by it
    )
    return env


def manage(env: dict, *args: str, capture: bool = False) -> str:
    result = subprocess.run([PYTHON, "manage.py", *args], cwd=ROOT, env=env, check=True, capture_output=capture, text=True)
    return result.stdout if capture else ""


def django_side(env: dict, *args: str) -> dict:
    import json

    result = subprocess.run([PYTHON, "-m", "bench.django_side", *args], cwd=ROOT, env=env, check=True, capture_output=True, text=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


def gunicorn(procs: Processes, name: str, app: str, env: dict, port: int | None = None) -> tuple:
    """``app`` under gunicorn with the portal's gunicorn.conf.py, as 2 sync workers."""
    port = port or free_port()
    args = [
        str(BIN / "gunicorn"),
        "-c",
        "gunicorn.conf.py",
        "--workers",
        "2",
        "--worker-class",
        "sync",
        "--bind",
        f"127.0.0.1:{port}",
        app,
    ]
    proc = procs.start(name, args, {**env, "GUNICORN_BIND": f"127.0.0.1:{port}"}, ROOT)
    wait_for_port(port, proc)
    wait_for_workers(proc, 2)
    return proc, port


def celery_worker(procs: Processes, name: str, app: str, queue: str, env: dict, concurrency: int = 2):
    args = [str(BIN / "celery"), "-A", app, "worker", "-Q", queue, "-n", f"{name}@bench", "--concurrency", str(concurrency)]
    args += ["--loglevel", "WARNING", "--without-gossip", "--without-mingle"]
    return procs.start(name, args, env, ROOT)
