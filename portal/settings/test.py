"""Tests run on the production stack: PostgreSQL and Redis on 127.0.0.1."""

from .base import *  # noqa: F401,F403
from .base import broker_transport_options, database_bounded, env

SECRET_KEY = "test-only-secret"  # noqa: S105
DEBUG = False
DATABASES = {"default": database_bounded(env.db("TEST_DATABASE_URL", default="postgres://postgres@127.0.0.1:5432/portal"))}
CACHES = {"default": env.cache("TEST_CACHE_URL", default="rediscache://127.0.0.1:6379/1")}
CACHES["default"]["KEY_PREFIX"] = "portal-test"
CELERY_BROKER_URL = env.str("TEST_CELERY_BROKER_URL", default="redis://127.0.0.1:6379/2")
CELERY_BROKER_TRANSPORT_OPTIONS = broker_transport_options(CELERY_BROKER_URL)
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
PRIVATE_MEDIA_ROOT = VAR_DIR / "test-private"  # noqa: F405
ALLOWED_HOSTS = ["testserver", "localhost", "127.0.0.1"]
LOGGING = {"version": 1, "disable_existing_loggers": False}
MIDDLEWARE = [m for m in MIDDLEWARE if "whitenoise" not in m]  # noqa: F405  (no collected static in tests)
