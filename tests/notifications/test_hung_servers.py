"""A broker or a database that accepts connections and never answers: requests still answer in seconds."""

import time

import pytest
from django.db import connection
from django.db.backends.postgresql.base import DatabaseWrapper
from django.db.utils import OperationalError

from notifications.models import OutboxMessage
from portal.celery import app as celery_app
from tests import factories
from tests.broker import use_broker
from tests.helpers import submit
from tests.proxy import SilentServer


@pytest.fixture
def silent():
    server = SilentServer()
    yield server
    server.close()


@pytest.mark.parametrize("scheme", ["redis", "amqp"])
def test_a_broker_that_never_answers_holds_no_request(transactional_db, client, silent, scheme):
    original = celery_app.conf.broker_url
    use_broker(f"redis://127.0.0.1:{silent.port}/0" if scheme == "redis" else f"amqp://guest:guest@127.0.0.1:{silent.port}//")
    try:
        tenant = factories.TenantFactory()
        started = time.monotonic()
        response = submit(client, tenant)
        filing = time.monotonic() - started
        assert response.status_code == 302

        started = time.monotonic()
        health = client.get("/healthz")
        healthz = time.monotonic() - started
        broker = health.json()["broker"]
        assert health.status_code == 503 and health.json()["database"] == "ok"
        assert broker == "timeout" or broker.startswith("error"), broker

        # Another filing while the broker still hangs: the hand-off is skipped at once (OUTBOX_BROKER_PAUSE).
        started = time.monotonic()
        assert submit(client, tenant, requester_email=f"marie@{tenant.primary_domain}").status_code == 302
        second = time.monotonic() - started
    finally:
        use_broker(original)
    assert silent.accepted, "the portal did reach the silent broker"
    assert filing < 6 and healthz < 6, f"the filing took {filing:.1f}s, /healthz {healthz:.1f}s"
    assert second < 2, f"the second filing took {second:.1f}s"
    assert set(OutboxMessage.objects.values_list("status", "attempts")) == {("pending", 0)}, "kept for beat"
    print(f"{scheme} broker that never answers: filing {filing:.1f}s, /healthz {healthz:.1f}s, next filing {second:.1f}s")


def test_a_database_that_never_answers_fails_in_seconds(db, silent, settings):
    """The settings' connect_timeout bounds a connection attempt; statement_timeout bounds each statement."""
    options = connection.settings_dict["OPTIONS"]
    assert options["connect_timeout"] == settings.DATABASE_CONNECT_TIMEOUT
    # The same settings with a short timeout (libpq takes 2 s at least), so that the test does not wait the real one out.
    hung = DatabaseWrapper(
        {**connection.settings_dict, "HOST": "127.0.0.1", "PORT": str(silent.port), "OPTIONS": {**options, "connect_timeout": 1}},
        alias="hung",
    )
    started = time.monotonic()
    with pytest.raises(OperationalError):
        hung.ensure_connection()
    took = time.monotonic() - started
    assert took < 3, f"connecting took {took:.1f}s"
    with connection.cursor() as cursor:
        cursor.execute("SHOW statement_timeout")
        assert cursor.fetchone()[0] == f"{settings.DATABASE_STATEMENT_TIMEOUT}s"
    print(f"database that never answers: refused after {took:.1f}s")
