"""The ceiling for delivery: a Celery app whose one task does nothing but count itself, on the same broker
and with the portal's worker settings (acks late, prefetch 1), on a queue of its own."""

import os

import redis
from celery import Celery

app = Celery("bench_noop", broker=os.environ["CELERY_BROKER_URL"])
app.conf.update(
    task_ignore_result=True,
    task_acks_late=True,
    worker_prefetch_multiplier=1,
    task_default_queue="bench_noop",
    broker_connection_retry_on_startup=True,
)
COUNTER = "bench:noop:done"
_redis = redis.Redis.from_url(os.environ["CELERY_BROKER_URL"])


@app.task(name="bench.noop")
def noop() -> None:
    _redis.incr(COUNTER)
