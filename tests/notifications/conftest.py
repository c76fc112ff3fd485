import shutil

import pytest

from tests.broker import Broker, RabbitBroker, rabbitmq_available, use_broker
from tests.smtp_server import SMTPServer


@pytest.fixture
def smtp_server():
    """An SMTP server of the test's own (tests/smtp_server.py); not yet the portal's."""
    server = SMTPServer().start()
    yield server
    server.stop()


@pytest.fixture
def smtp(settings, smtp_server):
    """The portal sends to ``smtp_server`` over real SMTP."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = smtp_server.server_address
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_TIMEOUT = 2
    return smtp_server


@pytest.fixture(params=["redis", "amqp"])
def any_broker(request):
    """The broker of the test's own, once Redis and once RabbitMQ: the code under test publishes to it."""
    from portal.celery import app

    if request.param == "redis":
        if shutil.which("redis-server") is None:
            pytest.skip("needs redis-server")
        broker = Broker()
    else:
        if not rabbitmq_available():
            pytest.skip("needs RabbitMQ on 127.0.0.1:5672 and rabbitmqctl")
        broker = RabbitBroker()
    original, heartbeat = app.conf.broker_url, app.conf.broker_heartbeat
    # An in-process worker on amqp sleeps until its next heartbeat check before it can stop (10 s).
    app.conf.broker_heartbeat = 0
    broker.start()
    use_broker(broker.url)
    yield broker
    broker.stop()
    use_broker(original)
    app.conf.broker_heartbeat = heartbeat
    if request.param == "amqp":
        broker.delete()
