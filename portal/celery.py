"""The Celery application: configuration comes from Django settings (CELERY_*).

``.env`` has already been read (``portal/__init__.py``). A worker or beat started without
DJANGO_SETTINGS_MODULE runs the production settings, which refuse to start without SECRET_KEY: never
the demo's DEBUG settings. ``make run`` names ``portal.settings.local`` itself.
"""

import os

from celery import Celery

# Before the app exists: Celery installs its Django fix-up only if the variable is set by then.
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings.production")

app = Celery("portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
