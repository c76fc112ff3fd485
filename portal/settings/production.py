"""Production: PostgreSQL, Redis, SMTP, all from the environment. No default secret."""

from django.core.exceptions import ImproperlyConfigured

from portal.logs import JSON_FORMATTER
from portal.sentry import sentry_init

from .base import *  # noqa: F401,F403
from .base import broker_transport_options, database_bounded, env

SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    raise ImproperlyConfigured(
        "SECRET_KEY must be set in the environment for production (portal.settings.production, the default). "
        "For the local demo, set DJANGO_SETTINGS_MODULE=portal.settings.local."
    )
DEBUG = False
DATABASES = {"default": database_bounded(env.db("DATABASE_URL"))}
# No silent fall-back to the demo's folder broker or mail files: both must be named.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL")
CELERY_BROKER_TRANSPORT_OPTIONS = broker_transport_options(CELERY_BROKER_URL)
vars().update(env.email_url_config(env.str("EMAIL_URL")))
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
CACHES = {"default": env.cache("CACHE_URL", default=env.str("REDIS_URL", default="rediscache://127.0.0.1:6379/1"))}

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
# A load balancer probes over plain HTTP.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^livez$", r"^readyz$"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    "evidence": STORAGES["evidence"],  # noqa: F405  (from EVIDENCE_STORAGE, base.py)
}

# One JSON object per line, each with the id of its request (portal/logs.py, portal/middleware.py).
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "portal.logs.RequestIdFilter"}},
    "formatters": {"json": JSON_FORMATTER},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "json", "filters": ["request_id"]}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}

# Error reporting, only when a DSN is given: nothing starts, nothing is sent otherwise (portal/sentry.py).
SENTRY_DSN = env.str("SENTRY_DSN", default="")
if SENTRY_DSN:
    sentry_init(
        dsn=SENTRY_DSN,
        environment=env.str("SENTRY_ENVIRONMENT", default="production"),
        traces_sample_rate=env.float("SENTRY_TRACES_SAMPLE_RATE", default=0.0),
    )
