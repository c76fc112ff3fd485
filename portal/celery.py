"""The Celery application: configuration comes from Django settings (CELERY_*).

``.env`` has already been read (``portal/__init__.py``). A worker or beat started without
DJANGO_SETTINGS_MODULE runs the production settings, which refuse to start without SECRET_KEY: never
the demo's DEBUG settings. ``make run`` names ``portal.settings.local`` itself.
"""

import os

from celery import Celery, signals

# Before the app exists: Celery installs its Django fix-up only if the variable is set by then.
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings.production")

app = Celery("portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@signals.task_postrun.connect
def drop_broken_database_connections(**kwargs):
    """Workers keep their database connection between tasks (CELERY_DB_REUSE_MAX); one that broke during
    a task (the server restarted, a network cut) is closed here, so that the next task opens a new one."""
    from django.db import connections  # Django is set up only once the worker starts

    for connection in connections.all(initialized_only=True):
        if connection.connection is not None and connection.errors_occurred:
            if connection.is_usable():
                connection.errors_occurred = False
            else:
                connection.close()
