"""Growth: the outbox re-dispatch and the audit walks at 1,000,000 rows, in bounded memory and linear time.

``python bench/growth.py`` (or ``run()`` from the bench) makes its own database (``GROWTH_DATABASE``,
default ``portal_growth``, on the server of ``DATABASE_URL``), migrates it, and drops it at the end: it
never touches other data. Each figure is measured at 100,000 rows and again at 1,000,000 rows, each time
in a fresh process (``--measure``), so that the peak RSS of that process, less its RSS before the call,
is the memory the call needed, and its time is the CPU time of that process and of its PostgreSQL backend
(the machine is shared: wall time says more of how busy it is than of the work). Linear time: 10× the rows
take about 10× the time (at most 13×); bounded memory: the peak at 1M is about the peak at 100k.

The rows are written with COPY (audit events) and ``INSERT … SELECT generate_series`` (outbox). The audit
chain is valid, since the walk stops at the first broken link: each event's hash is the app's
(``audit.chain``), computed from a template of the canonical JSON of one event, the only parts that
differ between events (time and target) filled in; the first events are checked against ``link_hash``
and the walk itself confirms every one. The re-dispatch hands batches to an in-memory broker
(``GROWTH_BROKER_URL``, default ``memory://``): what is measured is finding the due rows.
"""

import hashlib
import json
import os
import resource
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
# The two sizes compared (GROWTH_ROWS="small,large" to try the script quickly).
SIZES = tuple(int(n) for n in os.environ.get("GROWTH_ROWS", "100000,1000000").split(","))
SLACK = 1.3  # linear: 10× the rows in about 10× the time, at most 13×; more would be worse than linear
MEMORY_SLACK_MB = 16.0  # bounded: the peak at 1M within 1.5× (or 16 MB) of the peak at 100k


def _urls() -> tuple[str, str]:
    """(maintenance database URL, growth database URL) on the server of DATABASE_URL."""
    base = urlsplit(os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres"))
    name = os.environ.get("GROWTH_DATABASE", "portal_growth")
    return urlunsplit(base._replace(path="/postgres")), urlunsplit(base._replace(path=f"/{name}"))


def _env(database_url: str) -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "portal.settings.local",
        "DEBUG": "False",
        "DATABASE_URL": database_url,
        "CELERY_BROKER_URL": os.environ.get("GROWTH_BROKER_URL", "memory://"),
    }


def _admin(sql: str) -> None:
    import psycopg

    with psycopg.connect(_urls()[0], autocommit=True) as conn:
        conn.execute(sql)


def _setup_django() -> None:
    import django

    sys.path.insert(0, str(ROOT))
    django.setup()


def _rss_kb() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


# --- Loading rows (in the parent process) -------------------------------------------------------------------------


def _load_audit(count: int) -> None:
    """Append ``count`` chained events (ids after the current head) and move the head."""
    from django.core.serializers.json import DjangoJSONEncoder
    from django.db import connection, transaction

    from audit.chain import content, link_hash
    from audit.models import AuditChainHead

    sample = {
        "created_at": "@CREATED@", "actor_id": None, "actor_label": "system", "action": "status.changed",
        "target_type": "tickets.servicerequest", "target_id": "@TARGET@", "tenant_id": None,
        "before": {"status": "new"}, "after": {"status": "in_review"}, "ip_address": "198.51.100.7", "user_agent": "growth",
    }  # fmt: skip
    # The same dumps as audit.chain.link_hash: the parts between the two fields that vary.
    canonical = json.dumps(content(sample), sort_keys=True, separators=(",", ":"), ensure_ascii=False, cls=DjangoJSONEncoder)
    head_part, rest = canonical.split("@CREATED@")
    middle, tail = rest.split("@TARGET@")
    start_at = datetime(2024, 1, 1, tzinfo=UTC)
    with transaction.atomic():
        head = AuditChainHead.objects.select_for_update().get(pk=1)
        previous, first_id = head.last_hash, (head.last_event_id or 0) + 1
        columns = "id, created_at, actor_label, action, target_type, target_id, before, after, ip_address, user_agent, chain_hash"
        with connection.cursor() as cursor, cursor.cursor.copy(f"COPY audit_auditevent ({columns}) FROM STDIN") as copy:
            for pk in range(first_id, first_id + count):
                at = start_at + timedelta(milliseconds=pk)
                iso, target = at.isoformat(), str(pk)
                chained = hashlib.sha256((previous + head_part + iso + middle + target + tail).encode()).hexdigest()
                if pk < first_id + 3 and chained != link_hash(previous, {**sample, "created_at": at, "target_id": target}):
                    raise AssertionError("the growth template no longer matches audit.chain")
                previous = chained
                copy.write_row(
                    (pk, at, "system", "status.changed", "tickets.servicerequest", target, '{"status": "new"}',
                     '{"status": "in_review"}', "198.51.100.7", "growth", chained)
                )  # fmt: skip
        with connection.cursor() as cursor:
            cursor.execute("SELECT setval(pg_get_serial_sequence('audit_auditevent', 'id'), %s)", [first_id + count - 1])
        head.last_event_id, head.last_hash = first_id + count - 1, previous
        head.save(update_fields=["last_event_id", "last_hash"])


def _load_outbox(count: int) -> None:
    """``count`` pending rows, all due (the worst case for beat), each due at a different moment."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO notifications_outboxmessage
                (created_at, template, to_email, language, context, secrets, status, attempts, last_attempt_at,
                 next_attempt_at, last_error, subject, target_type, target_id)
            SELECT now() - interval '1 day' + g * interval '1 millisecond', 'confirm_email',
                   'person' || g || '@growth.example', 'en', '{"reference": "SR-GROW-TEST"}', '{}', 'pending', 1,
                   now() - interval '1 hour', now() - interval '1 hour' + g * interval '1 millisecond', '', '',
                   'tickets.servicerequest', g::text
            FROM generate_series(1, %s) AS g
            """,
            [count],
        )
        cursor.execute("ANALYZE notifications_outboxmessage")
        cursor.execute("ANALYZE audit_auditevent")


# --- Measuring (in a fresh process each time) -----------------------------------------------------------------------


def _cpu(backend_pid: int) -> float:
    """CPU seconds used so far by this process and by its PostgreSQL backend (same machine: /proc)."""
    fields = Path(f"/proc/{backend_pid}/stat").read_text().rsplit(")", 1)[1].split()
    return time.process_time() + (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _measure(what: str) -> dict:
    _setup_django()
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        backend = cursor.fetchone()[0]
    if what == "redispatch":
        from notifications.services import outbox_resend_pending as call
    elif what == "walk":
        from audit.verify import audit_chain_verify as call
    else:
        from tickets.services.audit_watch import audit_log_check as call
    before, cpu = _rss_kb(), _cpu(backend)
    start = time.perf_counter()
    result = call()
    seconds, cpu = time.perf_counter() - start, _cpu(backend) - cpu
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    detail = result.describe() if hasattr(result, "describe") else f"{result} rows handed to the broker"
    ok = result.ok if hasattr(result, "ok") else result > 0
    return {"seconds": seconds, "cpu_seconds": cpu, "memory_mb": max(peak - before, 0) / 1024, "detail": detail, "ok": ok}


def _child(database_url: str, *args: str, **env: str) -> dict:
    """Run this file with ``args`` in a fresh process on the growth database; its last line is JSON."""
    environ = {**_env(database_url), **env}
    out = subprocess.run([sys.executable, __file__, *args], env=environ, cwd=ROOT, capture_output=True, text=True)
    if out.returncode:
        raise RuntimeError(f"growth {' '.join(args)} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def _load(count: int) -> dict:
    _setup_django()
    start = time.perf_counter()
    _load_audit(count)
    _load_outbox(count)
    return {"seconds": time.perf_counter() - start}


FIGURES = {
    "redispatch": "outbox re-dispatch (beat's outbox_resend_pending), all rows due",
    "walk": "audit walk (verify_audit_log)",
    "check": "audit walk in a transaction (beat's daily audit_log_check)",
}


def _rows(count: int) -> str:
    return f"{count // 1_000_000}M" if count % 1_000_000 == 0 else f"{count // 1000}k" if count % 1000 == 0 else str(count)


def _figure(what: str, small: dict, large: dict) -> dict:
    # CPU time (this process and its database backend), not wall time: the machine is shared and noisy,
    # and waiting for a core says nothing of how the work grows.
    ratio = large["cpu_seconds"] / small["cpu_seconds"] if small["cpu_seconds"] else float("inf")
    rows = SIZES[1] / SIZES[0]
    memory_ok = large["memory_mb"] <= max(small["memory_mb"] * 1.5, small["memory_mb"] + MEMORY_SLACK_MB)

    def said(size: int, m: dict) -> str:
        return f"{_rows(size)} rows: {m['cpu_seconds']:.2f} s CPU ({m['seconds']:.2f} s wall), +{m['memory_mb']:.1f} MB peak RSS"

    return {
        "figure": f"growth: {FIGURES[what]}",
        "ours": f"{said(SIZES[1], large)}; {large['detail']}",
        "reference": said(SIZES[0], small),
        "ratio": round(ratio, 2),
        "target": f"CPU time ≤ {rows * SLACK:.0f}× for {rows:.0f}× the rows (linear); memory about the same (bounded)",
        "met": bool(ratio <= rows * SLACK and memory_ok and small["ok"] and large["ok"]),
    }


# "check" (beat's audit_log_check: the same walk, inside a transaction) doubles the run's time: on request.
DEFAULT_FIGURES = tuple(os.environ.get("GROWTH_FIGURES", "redispatch,walk").split(","))


def run(figures: tuple[str, ...] = DEFAULT_FIGURES) -> list[dict]:
    """Measure each figure at 100k and 1M rows in a database of its own; returns one dict per figure."""
    database_url = _urls()[1]
    name = urlsplit(database_url).path.lstrip("/")
    _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    _admin(f'CREATE DATABASE "{name}"')
    try:
        for app in ("audit", "notifications"):  # their tables, and what they need (accounts); no more
            subprocess.run([sys.executable, "manage.py", "migrate", app, "-v", "0"], env=_env(database_url), cwd=ROOT, check=True)
        measured: dict[str, list[dict]] = {what: [] for what in figures}
        loaded = 0
        small, large = SIZES
        for size in (small, large):
            # Loading a million rows is one long statement; the walks run with the portal's statement timeout.
            took = _child(database_url, "--load", str(size - loaded), DATABASE_STATEMENT_TIMEOUT_SECONDS="0")["seconds"]
            loaded = size
            print(f"growth: {size:,} audit events and outbox rows in the database ({took:.1f} s to load)", flush=True)
            for what in figures:
                measured[what].append(_child(database_url, "--measure", what))
                print(f"growth: {what} at {size:,}: {measured[what][-1]}", flush=True)
        return [_figure(what, *measured[what]) for what in figures]
    finally:
        _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    if sys.argv[1:2] == ["--measure"]:
        print(json.dumps(_measure(sys.argv[2])))
    elif sys.argv[1:2] == ["--load"]:
        print(json.dumps(_load(int(sys.argv[2]))))
    else:
        started = time.perf_counter()
        for row in run():
            print(" | ".join(f"{key}: {value}" for key, value in row.items()))
        print(f"growth run: {time.perf_counter() - started:.0f} s")
