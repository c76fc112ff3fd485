"""The ceiling: a bare Django project with one view, served by the portal's gunicorn.conf.py."""

SECRET_KEY = "bench-hello-only"  # noqa: S105  (serves one constant page, no sessions)
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
ROOT_URLCONF = "bench.hello.urls"
INSTALLED_APPS: list[str] = []
MIDDLEWARE = ["django.middleware.security.SecurityMiddleware", "django.middleware.common.CommonMiddleware"]
USE_TZ = True
