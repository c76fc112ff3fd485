"""Bench data at production volume, written fast: ``manage.py generate_bench_data`` (docs/operations.md).

Additive: each run adds the volumes asked for beside whatever is there (the demo, an earlier run). Ids
come from the tables' sequences and every unique value (domain, email, reference) is derived from an
id, so runs never collide. One transaction: a failed run leaves nothing behind. With the same seed on
the same database state, the same rows are written; times are relative to the moment of the run.

The audit events are chained as ``audit_event_record`` chains them: in one transaction holding the
chain's head row lock, in time order, each hash computed by ``audit.chain.link_hash`` from the one
before, ids taken from the sequence after the lock, so that ``manage.py verify_audit_log`` passes.
"""

import random
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

from django.contrib.auth.hashers import make_password
from django.db import connection, transaction

from audit.chain import FIELDS, GENESIS, link_hash
from audit.models import AuditChainHead, AuditEvent
from portal.clock import now

from ..models import ServiceRequest
from .people import write_people
from .requests import MODELS, Batch, RequestMaker
from .tables import Timings, reserve_ids

UNUSABLE_PASSWORD = "!bench-data-no-password"  # noqa: S105  (Django's mark for "no password": never matches)
BATCH = 5000


def _audit_rows(events: list[tuple], ids: list[int], previous: str, end: list[str]) -> Iterator[dict[str, Any]]:
    for pk, event in zip(ids, events, strict=True):
        values = dict(zip(FIELDS, event, strict=True))
        values["target_id"] = str(values["target_id"])
        previous = link_hash(previous, values)
        yield {**values, "id": pk, "chain_hash": previous}
    end.append(previous)


def write_audit(events: list[tuple], timings: Timings) -> None:
    """Append ``events`` (tuples in ``audit.chain.FIELDS`` order) to the chain, oldest first."""
    events.sort(key=lambda event: event[0])
    AuditChainHead.objects.get_or_create(pk=1, defaults={"last_hash": GENESIS})
    head = AuditChainHead.objects.select_for_update().get(pk=1)  # as every writer does: one chain, in id order
    start = time.perf_counter()
    ids = reserve_ids(AuditEvent, len(events))
    end: list[str] = []
    count = 0
    for first in range(0, len(events), 50_000):
        # Hashing is timed with the copy: it is the cost of writing a chained event.
        rows = _audit_rows(events[first : first + 50_000], ids[first : first + 50_000], end[-1] if end else head.last_hash, end)
        count += Timings().copy(AuditEvent, rows, with_id=True)
    timings.add(AuditEvent._meta.db_table, count, time.perf_counter() - start)
    if ids:
        head.last_event_id, head.last_hash = ids[-1], end[-1]
        head.save(update_fields=["last_event_id", "last_hash"])


def generate(
    *, tenants: int, users: int, requests: int, seed: int = 0, password: str = "", write: Callable[[str], Any] = print
) -> Timings:
    """Write the volumes asked for (module docstring); returns rows and seconds per table."""
    if tenants < 1 or users < 0 or requests < 0:
        raise ValueError("at least one tenant, and no negative volume")
    rng = random.Random(seed)  # noqa: S311  (made-up data, reproducible: no secret comes from it)
    timings = Timings()
    moment: datetime = now()
    events: list[tuple] = []
    hashed = make_password(password) if password else UNUSABLE_PASSWORD  # one hash, shared: no cost per user
    started = time.perf_counter()
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL statement_timeout = 0")  # the COPYs are long statements
        people = write_people(rng=rng, timings=timings, tenants=tenants, users=users, password=hashed, moment=moment, events=events)
        write(f"people written ({time.perf_counter() - started:.1f} s)")
        maker = RequestMaker(rng=rng, people=people, moment=moment, events=events)
        ids = reserve_ids(ServiceRequest, requests)
        for first in range(0, requests, BATCH):
            batch = Batch()
            for index in range(first, min(first + BATCH, requests)):
                maker.add(batch, index, ids[index])
            for name, model in MODELS.items():
                timings.copy(model, getattr(batch, name), with_id=name == "requests")
        write(f"requests written ({time.perf_counter() - started:.1f} s); {len(events)} audit events to chain")
        write_audit(events, timings)
    start = time.perf_counter()
    with connection.cursor() as cursor:
        for table in timings.rows:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(table)}")
    timings.add("(analyze)", 0, time.perf_counter() - start)
    return timings
