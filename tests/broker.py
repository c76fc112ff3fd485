"""A broker of a test's own, so that stopping it or reading its queue disturbs nothing else: a Redis server,
or a RabbitMQ virtual host of its own on the shared RabbitMQ, behind a forwarder the test can stop."""

import secrets
import shutil
import socket
import subprocess
import time

from kombu import pools as kombu_pools

from portal.celery import app as celery_app
from portal.settings.base import broker_transport_options

from .proxy import TCPProxy

RABBITMQ_PORT = 5672


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Broker:
    """A Redis server of this test's own, so that stopping it disturbs nothing else."""

    def __init__(self):
        self.port = _free_port()
        self.process = None

    @property
    def url(self):
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self):
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.1).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self):
        if self.process:
            self.process.terminate()
            self.process.wait(5)
            self.process = None


def rabbitmq_available() -> bool:
    if shutil.which("rabbitmqctl") is None:
        return False
    try:
        socket.create_connection(("127.0.0.1", RABBITMQ_PORT), timeout=1).close()
    except OSError:
        return False
    return True


class RabbitBroker:
    """A virtual host of this test's own on the shared RabbitMQ, reached through a forwarder: stopping the
    forwarder is, for the portal, RabbitMQ going away; others' queues are never touched."""

    def __init__(self):
        self.vhost = f"portal-test-{secrets.token_hex(4)}"
        self.proxy = TCPProxy(RABBITMQ_PORT)
        self._ctl("add_vhost", self.vhost)
        self._ctl("set_permissions", "-p", self.vhost, "guest", ".*", ".*", ".*")

    @staticmethod
    def _ctl(*args):
        subprocess.run(["rabbitmqctl", "-q", *args], check=True, stdout=subprocess.DEVNULL, timeout=60)

    @property
    def url(self):
        return f"amqp://guest:guest@127.0.0.1:{self.proxy.port}/{self.vhost}"

    def start(self):
        self.proxy.start()

    def stop(self):
        self.proxy.stop()

    def delete(self):
        self.proxy.stop()
        self._ctl("delete_vhost", self.vhost)


def use_broker(url):
    """Point the app's publisher at ``url`` (with its transport's timeouts) and drop pooled connections."""
    celery_app.conf.broker_url = url
    celery_app.conf.broker_transport_options = broker_transport_options(url)
    if celery_app._pool is not None:
        celery_app._pool.force_close_all()
    celery_app._pool = None
    celery_app.amqp._producer_pool = None
    kombu_pools.reset()  # kombu's own registry of producer pools, keyed by connection, keeps closed ones otherwise
