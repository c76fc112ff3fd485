"""The ceiling for delivery: a Celery app whose one task does nothing but count itself, on the same broker
and with the portal's worker settings (acks late, prefetch 1), on a queue of its own."""

import redis
from celery import Celery

from .stack import REDIS_BROKER_DB

BROKER_URL = f"redis://127.0.0.1:6379/{REDIS_BROKER_DB}"
app = Celery("bench_noop", broker=BROKER_URL)
app.conf.update(
    task_ignore_result=True,
    task_acks_late=True,
    worker_prefetch_multiplier=1,
    task_default_queue="bench_noop",
    broker_connection_retry_on_startup=True,
)
COUNTER = "bench:noop:done"
_redis = redis.Redis.from_url(BROKER_URL)


@app.task(name="bench.noop")
def noop() -> None:
    _redis.incr(COUNTER)
