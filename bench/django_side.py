"""What the bench does inside the portal's Django (its own process, the bench's settings and database):
``python -m bench.django_side <command> [n]``, one JSON document on stdout.

It acts through the portal's services, as a person or a worker would; the staff accounts and the requests
half-way through their life come from the test factories (installed by ``make test``).
"""

import json
import sys
import time

import django


def _factories():
    from tests import factories

    # Far from the sequences of anything loaded before (the generator, an earlier command).
    start = int(time.time() * 10) % 10**6 * 10 + 9_000_000
    for factory in (factories.TenantFactory, factories.UserFactory, factories.ServiceRequestFactory):
        factory.reset_sequence(start)
    return factories


def agent(password: str) -> dict:
    """A support agent with a confirmed authenticator, who signs in through /login/ like anyone else."""
    factories = _factories()
    user = factories.agent(email=f"bench-agent-{int(time.time())}@support.example")
    user.set_password(password)
    user.save(update_fields=["password"])
    device = user.totpdevice_set.get()
    return {"email": user.email, "totp_key": device.key}


def outbox(count: int) -> dict:
    """``count`` emails written in one transaction, each handed to the broker on commit (as any service does)."""
    from django.db import transaction

    from notifications.services import outbox_enqueue

    with transaction.atomic():
        ids = [
            outbox_enqueue(template="queue_new", to_email=f"agent{i % 50}@support.example", context={"reference": f"SR-BENCH-{i}"}).pk
            for i in range(count)
        ]
        started = time.time()
    return {"ids": ids, "started": started, "published": time.time()}


def approvals(count: int) -> dict:
    """``count`` proposals approved one after the other; for each, when it committed and the emails it wrote."""
    from notifications.models import OutboxMessage
    from tests.tickets import flow

    factories = _factories()
    proposer, approver = factories.agent(), factories.supervisor()
    before = OutboxMessage.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    proposed = [flow.proposed_request(proposer) for _ in range(count)]
    # The proposals' own emails (filing, confirmation, matching...) drain first: an approval is timed on a
    # quiet queue, not behind the backlog its set-up wrote a moment ago.
    unsent = OutboxMessage.objects.filter(pk__gt=before, status__in=[OutboxMessage.Status.PENDING, OutboxMessage.Status.SENDING])
    deadline = time.time() + 120
    while unsent.exists() and time.time() < deadline:
        time.sleep(0.1)
    results = []
    for sr in proposed:
        last = OutboxMessage.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        flow.approve(sr, approver)
        committed = time.time()
        ids = list(OutboxMessage.objects.filter(pk__gt=last, target_id=str(sr.pk)).values_list("pk", flat=True))
        results.append({"committed": committed, "ids": ids})
        time.sleep(0.05)
    return {"approvals": results}


def queries(paths: list[str]) -> dict:
    """The number of queries each queue page makes, for a verified staff session (django.test.Client)."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django_otp import DEVICE_ID_SESSION_KEY

    user = _factories().agent()
    client = Client(HTTP_HOST="127.0.0.1", HTTP_X_BENCH_CLIENT="10.250.0.1")
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = user.totpdevice_set.get().persistent_id
    session.save()
    counts = {}
    for path in paths:
        client.get(path, secure=True)
        with CaptureQueriesContext(connection) as captured:
            status = client.get(path, secure=True).status_code
        counts[path] = {"status": status, "queries": len(captured)}
    return counts


def growth() -> dict:
    """bench/growth.py's rows (the outbox and the audit chain at 1,000,000 rows), when it is there."""
    try:
        from bench.growth import run
    except ImportError:
        return {"absent": True}
    return {"rows": run()}


def main() -> None:
    django.setup()
    command, *args = sys.argv[1:]
    if command == "agent":
        result = agent(args[0])
    elif command == "outbox":
        result = outbox(int(args[0]))
    elif command == "approvals":
        result = approvals(int(args[0]))
    elif command == "growth":
        result = growth()
    elif command == "queries":
        result = queries(args)
    else:
        raise SystemExit(f"unknown command {command}")
    sys.stdout.write(json.dumps(result, default=str) + "\n")


if __name__ == "__main__":
    main()
