"""Settings of the workers and beats that fault tests start as processes: the test settings, with the
limits short enough to watch and the SMTP server and beat schedule the test gives (environment)."""

import os
from datetime import timedelta

from portal.settings.test import *  # noqa: F401,F403

EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
EMAIL_HOST = "127.0.0.1"
EMAIL_PORT = int(os.environ.get("TEST_SMTP_PORT", "25"))
EMAIL_TIMEOUT = 20  # longer than the soft limit: the time limits, not the socket, end a slow send
OUTBOX_DELIVERY_SOFT_TIME_LIMIT = 2
OUTBOX_DELIVERY_TIME_LIMIT = 4
OUTBOX_CLAIM_TIMEOUT = timedelta(seconds=float(os.environ.get("TEST_OUTBOX_CLAIM_SECONDS", "6")))
if "TEST_BEAT_EVERY" in os.environ:
    CELERY_BEAT_SCHEDULE = {
        "outbox-resend-pending": {
            "task": "notifications.tasks.outbox_resend_pending",
            "schedule": float(os.environ["TEST_BEAT_EVERY"]),
        }
    }
