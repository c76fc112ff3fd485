"""Benchmarks (make bench): figures printed, never asserted as times in the test suite."""

import statistics
import time
from datetime import timedelta

from celery.contrib.testing.worker import start_worker
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext

from portal.celery import app as celery_app
from portal.clock import now
from tests import factories
from tests.helpers import submit


def test_time_from_filing_to_email_with_a_real_worker(transactional_db, client):
    """Submit the public form and wait for the confirmation email to leave a real Celery worker."""
    tenant = factories.TenantFactory()
    samples = []
    with start_worker(celery_app, pool="solo", perform_ping_check=False):
        for i in range(5):
            mail.outbox.clear()
            start = time.perf_counter()
            submit(client, tenant, requester_name=f"Person {i}")
            while not mail.outbox and time.perf_counter() - start < 30:
                time.sleep(0.005)
            samples.append(time.perf_counter() - start)
    print(
        f"\nfiling → confirmation email delivered: median {statistics.median(samples) * 1000:.0f} ms, "
        f"max {max(samples) * 1000:.0f} ms over {len(samples)} requests"
    )


def test_queue_page_with_500_requests(agent_client):
    tenant = factories.TenantFactory()
    for i in range(500):
        factories.ServiceRequestFactory(
            tenant_on_record=tenant, tenant=tenant, status="new", sla_due_at=now() + timedelta(hours=i % 48 - 24)
        )
    agent_client.get("/admin/tickets/servicerequest/")
    timings = []
    for _ in range(5):
        with CaptureQueriesContext(connection) as queries:
            start = time.perf_counter()
            assert agent_client.get("/admin/tickets/servicerequest/").status_code == 200
            timings.append(time.perf_counter() - start)
    print(f"\nqueue page, 500 requests (50 a page): median {statistics.median(timings) * 1000:.0f} ms, {len(queries)} queries")


def test_audio_captcha_render_time():
    """One audio CAPTCHA of six characters, as /password-reset/captcha/<key>.wav builds it (CSPRNG, no seed)."""
    from portal.captcha.audio import captcha_wav

    for language in ("en", "fr"):
        captcha_wav("AC3X7M", language)  # clips loaded and cached
        timings = []
        for _ in range(30):
            start = time.perf_counter()
            captcha_wav("AC3X7M", language)
            timings.append(time.perf_counter() - start)
        print(
            f"\naudio CAPTCHA ({language}, 6 characters): median {statistics.median(timings) * 1000:.0f} ms, "
            f"max {max(timings) * 1000:.0f} ms over {len(timings)} renderings"
        )
