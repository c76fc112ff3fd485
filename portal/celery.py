"""The Celery application: configuration comes from Django settings (CELERY_*)."""

import os

from celery import Celery

from portal.environment import load_dotenv

load_dotenv()
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings.local")

app = Celery("portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
