"""Embedded defaults for a person trying the portal: SQLite, a folder broker, files for mail."""

from datetime import timedelta

from .base import *  # noqa: F401,F403
from .base import env

DEBUG = env.bool("DEBUG", default=True)
SECRET_KEY = SECRET_KEY or "local-development-only-not-secret"  # noqa: F405
# The file cache is shared by processes but not atomic: good enough for a demo's rate limit.
SILENCED_SYSTEM_CHECKS = ["django_ratelimit.E003"]
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
# The demo's waiting period is minutes long, so that it can be watched to its end.
ELEVATION_WAITING_PERIOD = timedelta(minutes=env.int("ELEVATION_WAITING_MINUTES", default=10))
ELEVATION_WAITING_MINIMUM = timedelta(minutes=env.int("ELEVATION_WAITING_MINIMUM_MINUTES", default=1))
# The demo reports what the policy would block (in the browser's console) instead of blocking it.
CONTENT_SECURITY_POLICY = None
CONTENT_SECURITY_POLICY_REPORT_ONLY = {"DIRECTIVES": CSP_DIRECTIVES}  # noqa: F405
