import re
import time

import pytest
import time_machine
from django.core import mail
from django.core.cache import cache
from django.test import RequestFactory
from django.utils import translation
from django_otp import DEVICE_ID_SESSION_KEY
from django_ratelimit.core import get_usage

from audit.services import Actor
from notifications.models import OutboxMessage
from notifications.services import outbox_deliver_message

from . import factories


@pytest.fixture(autouse=True)
def _clean_cache_and_files(settings, tmp_path):
    """Rate-limit counters live in Redis: start every test from zero. Evidence goes to a temp folder.
    The language a request in French left active (LocaleMiddleware never resets it) ends with the test."""
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private"
    cache.clear()
    yield
    cache.clear()
    translation.deactivate()


@pytest.fixture
def fresh_rate_window():
    """``fresh_rate_window(rate, value)``: from now on the real clock runs from the first second of a new
    django-ratelimit window for ``value`` (the address, lower-cased user ID or user pk the limit is keyed on).

    django-ratelimit counts in fixed windows of real time, whose edges depend on the value and the period: a
    test that expects the (limit + 1)th request refused must not straddle two. ``portal.clock.travel`` cannot
    help, it moves only the business clock; time-machine moves the clock django-ratelimit reads.
    """
    travellers = []

    def start(rate, value="127.0.0.1"):
        request = RequestFactory().post("/")
        usage = get_usage(request, group="tests", key=lambda group, request: value, rate=rate, method="POST", increment=False)
        # One second past the end of the current window; the clock then runs on (tick), as requests take time.
        traveller = time_machine.travel(time.time() + usage["time_left"] + 1, tick=True)
        traveller.start()
        travellers.append(traveller)

    yield start
    for traveller in reversed(travellers):
        traveller.stop()


@pytest.fixture
def deliver():
    """Deliver every pending outbox row now, as the Celery task would, and return the sent emails."""

    def _deliver():
        for pk in OutboxMessage.objects.filter(status="pending").order_by("pk").values_list("pk", flat=True):
            outbox_deliver_message(message_id=pk)
        return mail.outbox

    return _deliver


def emails_to(address):
    return [m for m in mail.outbox if address in m.to]


def link_in(message, path_fragment):
    match = re.search(r"(https?://\S*" + re.escape(path_fragment) + r"\S*)", message.body)
    assert match, f"no link with {path_fragment!r} in:\n{message.body}"
    return match.group(1)


def staff_client(client, user):
    """A client signed in to the admin as ``user`` with a verified OTP device."""
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = user.totpdevice_set.first().persistent_id
    session.save()
    return client


@pytest.fixture
def agent(db):
    return factories.agent(email="agent@support.example")


@pytest.fixture
def supervisor(db):
    return factories.supervisor(email="supervisor@support.example")


@pytest.fixture
def agent_client(client, agent):
    return staff_client(client, agent)


@pytest.fixture
def supervisor_client(supervisor):
    from django.test import Client

    return staff_client(Client(), supervisor)


def actor(user):
    return Actor(kind="staff", user=user)


@pytest.fixture
def private_broker():
    """A Redis of this test's own for what is dispatched on commit: stoppable, readable, leaks nowhere."""
    from portal.celery import app

    from .broker import Broker, use_broker

    original = app.conf.broker_url
    broker = Broker()
    broker.start()
    use_broker(broker.url)
    yield broker
    broker.stop()
    use_broker(original)


@pytest.fixture
def dns_server(settings):
    """A DNS server of this test's own on 127.0.0.1 (tests/dns_server.py), the portal's resolver for the test.

    Publish with ``dns_server.publish(name, *values)``; a name never published answers NXDOMAIN.
    """
    from .dns_server import TestDNSServer

    server = TestDNSServer().start()
    settings.DNS_RESOLVER = server.address
    settings.DNS_TIMEOUT = 0.5
    yield server
    server.stop()


@pytest.fixture
def dns_black_hole(settings):
    """A resolver address on 127.0.0.1 that never answers: every lookup times out (after 0.5 s)."""
    from .dns_server import BlackHole

    hole = BlackHole()
    settings.DNS_RESOLVER = hole.address
    settings.DNS_TIMEOUT = 0.5
    yield hole
    hole.close()


@pytest.fixture(scope="session")
def s3_endpoint():
    """An S3 endpoint on a free port of 127.0.0.1 (moto's server, tests/s3.py), shared by the whole run."""
    from .s3 import S3Endpoint

    endpoint = S3Endpoint().start()
    yield endpoint
    endpoint.stop()


@pytest.fixture
def s3_evidence(s3_endpoint, settings, monkeypatch):
    """Evidence goes to a new bucket of the test S3 endpoint, configured from the environment as on a web
    node (``EVIDENCE_STORAGE=s3``...). Returns the bucket (tests/s3.py)."""
    return s3_endpoint.new_bucket().use_for_evidence(settings, monkeypatch)


@pytest.fixture
def celery_inline():
    """Tasks handed to the broker run here and now, as a worker would run them (for pages that enqueue work)."""
    from portal.celery import app

    from .broker import use_broker

    use_broker(app.conf.broker_url)  # fresh pools: an eager task still takes a producer, and a worker test may have closed them
    app.conf.task_always_eager, app.conf.task_eager_propagates = True, True
    yield app
    app.conf.task_always_eager, app.conf.task_eager_propagates = False, False
