"""Beat's scheduler: each periodic job is sent by one beat only, even if two beats were started by mistake.

Before sending a job, a beat takes the job's turn in the shared cache (Redis in production): an atomic
``add`` of a key that lives for 90 % of the job's interval. A second beat finds the key and skips the
job; the beat that sent it finds the key gone at its next run and sends again. If the beat that holds
the turns stops, the other takes over within one interval. If the cache cannot be reached, the job is
sent anyway: every periodic job is idempotent, so a duplicate costs work, not correctness.
"""

import logging

from celery.beat import PersistentScheduler

logger = logging.getLogger(__name__)


def lease_seconds(entry) -> int:
    every = getattr(entry.schedule, "run_every", None)  # a crontab has none: once a minute at most
    seconds = every.total_seconds() if every is not None else 60
    return max(1, int(seconds * 0.9))


def take_turn(entry) -> bool:
    """Whether this beat may send ``entry`` now (no other beat sent it within 90 % of its interval)."""
    from django.core.cache import cache  # after Django is set up (beat imports this module first)

    try:
        return bool(cache.add(f"beat-turn:{entry.name}", entry.task, timeout=lease_seconds(entry)))
    except Exception:  # noqa: BLE001  (a cache outage must not stop periodic work; the jobs are idempotent)
        logger.warning("beat: the cache is unreachable; sending %s without taking its turn", entry.name, exc_info=True)
        return True


class SingleBeatScheduler(PersistentScheduler):
    """celery's file-backed scheduler, sending each job only when it takes the job's turn (``take_turn``)."""

    def apply_entry(self, entry, producer=None):
        if not take_turn(entry):
            logger.info("Scheduler: skipped %s (%s): another beat sent it", entry.name, entry.task)
            return
        super().apply_entry(entry, producer=producer)
