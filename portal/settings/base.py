"""Settings shared by every environment; everything variable is read from the environment.

``.env`` has already been loaded into the environment by ``portal/__init__.py`` (portal/environment.py).
"""

from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import environ
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _
from kombu import Exchange, Queue

env = environ.Env()

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(env.str("VAR_DIR", default=str(BASE_DIR / "var")))

DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env.str("SECRET_KEY", default="")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
SITE_URL = env.str("SITE_URL", default="http://localhost:8000").rstrip("/")
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[SITE_URL])

INSTALLED_APPS = [
    "portal.apps.SupportAdminConfig",  # django.contrib.admin, with the OTP-only site (accounts.admin_site)
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.forms",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "crispy_forms",
    "crispy_bootstrap5",
    "captcha",
    "django_countries",
    "audit",
    "notifications",
    "accounts",
    "tickets",
]

MIDDLEWARE = [
    "portal.middleware.RequestIdMiddleware",  # first: every response and log line of a request carries its id
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "portal.timezones.UserTimeZoneMiddleware",  # after authentication: the signed-in reader's zone
    "django.contrib.messages.middleware.MessageMiddleware",
    "accounts.middleware.PrivilegedSessionTimeoutMiddleware",
    "accounts.middleware.PasswordChangeRequiredMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.debug",
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
    {
        # Plain-text emails: the same templates, without HTML escaping ("&" stays "&").
        "NAME": "text",
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {"autoescape": False},
    },
]

# Widgets may use the project's templates (the CAPTCHA widget with its audio alternative).
FORM_RENDERER = "django.forms.renderers.TemplatesSetting"

# A request never waits on the database without limit: connecting, and each statement, have an end.
DATABASE_CONNECT_TIMEOUT = env.int("DATABASE_CONNECT_TIMEOUT_SECONDS", default=5)
DATABASE_STATEMENT_TIMEOUT = env.int("DATABASE_STATEMENT_TIMEOUT_SECONDS", default=30)  # 0: none


def database_bounded(database: dict) -> dict:
    """PostgreSQL's connect_timeout and statement_timeout for ``database`` (a DATABASES entry)."""
    if database["ENGINE"].endswith("postgresql"):
        options = database.setdefault("OPTIONS", {})
        options.setdefault("connect_timeout", DATABASE_CONNECT_TIMEOUT)
        if DATABASE_STATEMENT_TIMEOUT:
            options["options"] = f"{options.get('options', '')} -c statement_timeout={DATABASE_STATEMENT_TIMEOUT * 1000}".strip()
    return database


DATABASES = {
    "default": database_bounded(env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'portal.sqlite3'}")),
}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # The embedded demo: web, worker and beat share one file, so wait for locks and use WAL.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 20, "transaction_mode": "IMMEDIATE", "init_command": "PRAGMA journal_mode=WAL;"}
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "/"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "accounts.passwords.NistLengthValidator"},
    {"NAME": "accounts.passwords.RepeatedPatternValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "accounts.passwords.StrengthValidator"},  # zxcvbn's estimate: score 3 or more
]
# Emailed links (set-password) live one day, not Django's three.
PASSWORD_RESET_TIMEOUT = 24 * 3600

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("fr", _("French"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(VAR_DIR / "static")))
STATICFILES_DIRS = [BASE_DIR / "portal" / "static"]
# Evidence with EVIDENCE_STORAGE=filesystem is stored here, outside any URL; only a permission-checking view serves it.
PRIVATE_MEDIA_ROOT = Path(env.str("PRIVATE_MEDIA_ROOT", default=str(VAR_DIR / "private")))
MEDIA_ROOT = VAR_DIR / "media"


def evidence_storage_settings() -> dict:
    """``STORAGES["evidence"]`` from the environment (tickets/storage; docs/operations.md, "Evidence files").

    ``filesystem`` (the default): PRIVATE_MEDIA_ROOT, for the demo and a single web node. ``s3``: a private
    bucket of an S3-compatible store that every web node reads. Either way nothing links to a file: the staff
    evidence view streams it. A value that would make the files public is refused at start.
    """
    kind = env.str("EVIDENCE_STORAGE", default="filesystem")
    if kind == "filesystem":
        return {"BACKEND": "tickets.storage.PrivateFileSystemStorage"}
    if kind != "s3":
        raise ImproperlyConfigured(f"EVIDENCE_STORAGE is {kind!r}: it must be filesystem or s3.")
    # "private", or "bucket-owner-full-control" (also private) for an AWS bucket whose ACLs are disabled,
    # the default for new buckets, which refuses any other ACL; "" sends none (an object is private by default).
    acl = env.str("AWS_DEFAULT_ACL", default="private")
    if acl not in ("private", "bucket-owner-full-control", ""):
        raise ImproperlyConfigured(f"AWS_DEFAULT_ACL is {acl!r}: evidence objects must stay private.")
    encryption = env.str("AWS_S3_SERVER_SIDE_ENCRYPTION", default="")
    if encryption not in ("", "AES256", "aws:kms", "aws:kms:dsse"):
        raise ImproperlyConfigured(f"AWS_S3_SERVER_SIDE_ENCRYPTION is {encryption!r}: use AES256, aws:kms or aws:kms:dsse.")
    # Stored as an opaque download whatever type the browser claimed: the view sets the checked type itself.
    object_parameters = {"ContentType": "application/octet-stream", "ContentDisposition": "attachment"}
    if encryption:
        object_parameters["ServerSideEncryption"] = encryption
        if kms_key := env.str("AWS_S3_SSE_KMS_KEY_ID", default=""):
            object_parameters["SSEKMSKeyId"] = kms_key
    return {
        "BACKEND": "tickets.storage.s3.PrivateS3Storage",
        # Credentials are not settings: boto3 reads AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN or a role.
        "OPTIONS": {
            "bucket_name": env.str("AWS_STORAGE_BUCKET_NAME"),
            "endpoint_url": env.str("AWS_S3_ENDPOINT_URL", default="") or None,
            "region_name": env.str("AWS_S3_REGION_NAME", default="") or None,
            "addressing_style": env.str("AWS_S3_ADDRESSING_STYLE", default="") or None,
            "default_acl": acl or None,
            "object_parameters": object_parameters,
        },
    }


STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    "evidence": evidence_storage_settings(),
}
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
# A request body over this is not read at all (5 evidence files of 10 MB, and the form): match the proxy's
# client_max_body_size (docs/operations.md).
REQUEST_BODY_MAX_BYTES = env.int("REQUEST_BODY_MAX_MB", default=55) * 1024 * 1024
CSRF_FAILURE_VIEW = "portal.views.csrf_failure"
FILE_UPLOAD_HANDLERS = [
    "portal.uploads.RequestBodyLimit",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# Behind a proxy, the client's address is in a header the proxy sets (e.g. HTTP_X_REAL_IP).
CLIENT_IP_META_KEY = env.str("CLIENT_IP_META_KEY", default="REMOTE_ADDR")
RATELIMIT_IP_META_KEY = CLIENT_IP_META_KEY

CACHES = {"default": env.cache("CACHE_URL", default=f"filecache://{VAR_DIR / 'cache'}")}

# Email: EMAIL_URL (smtp://host:port, smtp+tls://user:pass@host:587 ...) or the file backend.
_email_url = env.str("EMAIL_URL", default="")
if _email_url:
    vars().update(env.email_url_config(_email_url))
else:
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = str(VAR_DIR / "mail")
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Escalation portal <no-reply@localhost>")
EMAIL_TIMEOUT = 20

# Celery: the broker comes from the environment; the embedded default is a folder.
# Every call to the broker is bounded, so that one that accepts and never answers cannot hold a web request:
# connecting (CELERY_BROKER_CONNECTION_TIMEOUT) and each read or write (the transport's socket timeout).
CELERY_BROKER_CONNECTION_TIMEOUT = 2
BROKER_SOCKET_TIMEOUT = 3


def broker_transport_options(url: str) -> dict:
    """The transport options for the broker at ``url``: Redis, RabbitMQ (amqp) or the demo's folder."""
    scheme = url.split(":", 1)[0]
    if scheme == "filesystem":
        queue_dir = VAR_DIR / "celery" / "queue"
        for folder in (queue_dir, VAR_DIR / "celery" / "processed", VAR_DIR / "celery" / "control"):
            folder.mkdir(parents=True, exist_ok=True)
        return {
            "data_folder_in": str(queue_dir),
            "data_folder_out": str(queue_dir),
            "processed_folder": str(VAR_DIR / "celery" / "processed"),
            "store_processed": False,
            # The exchange tables; kombu's default is "control" in the current directory.
            "control_folder": str(VAR_DIR / "celery" / "control"),
        }
    if scheme in ("amqp", "amqps", "pyamqp"):
        # py-amqp: the handshake is bounded by connect_timeout; these bound every later read and write.
        return {"read_timeout": BROKER_SOCKET_TIMEOUT, "write_timeout": BROKER_SOCKET_TIMEOUT}
    # Redis. A task not acknowledged within visibility_timeout is delivered again: far above any time limit.
    return {
        "visibility_timeout": 3600,
        "socket_timeout": BROKER_SOCKET_TIMEOUT,
        "socket_connect_timeout": CELERY_BROKER_CONNECTION_TIMEOUT,
    }


CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://")
CELERY_BROKER_TRANSPORT_OPTIONS = broker_transport_options(CELERY_BROKER_URL)
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Publishing must fail fast when the broker is down: the outbox keeps the message.
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2}
# Two queues, so that a slow SMTP server never holds up beat's jobs: emails on "notifications", the
# periodic jobs on "periodic" (docs/operations.md: a worker for each in production).
CELERY_TASK_QUEUES = [Queue(name, Exchange(name), routing_key=name) for name in ("notifications", "periodic")]
CELERY_TASK_DEFAULT_QUEUE = "periodic"
CELERY_TASK_ROUTES = {
    "notifications.tasks.outbox_deliver": {"queue": "notifications"},
    "notifications.tasks.outbox_deliver_batch": {"queue": "notifications"},
    "notifications.tasks.outbox_resend_pending": {"queue": "periodic"},
    # A person waits for this one's email: with the emails, not behind beat's long jobs.
    "tickets.tasks.tracking_link_send": {"queue": "notifications"},
    "tickets.tasks.*": {"queue": "periodic"},
}
# A backstop for every task (delivery has its own, shorter limits): cut short, then killed.
CELERY_TASK_SOFT_TIME_LIMIT = 240
CELERY_TASK_TIME_LIMIT = 300
# Keep a worker's database connection between tasks (Celery's Django fix-up closes it after each task
# otherwise); it is closed every this many tasks, and at once when it broke (portal/celery.py).
CELERY_DB_REUSE_MAX = 200
# Each beat job is sent by one beat only, even if two were started (portal/beat.py).
CELERY_BEAT_SCHEDULER = "portal.beat:SingleBeatScheduler"
CELERY_BEAT_SCHEDULE = {
    "outbox-resend-pending": {"task": "notifications.tasks.outbox_resend_pending", "schedule": 60.0},
    "service-requests-expire-unconfirmed": {
        "task": "tickets.tasks.service_requests_expire_unconfirmed",
        "schedule": 300.0,
    },
    "service-requests-alert-overdue": {"task": "tickets.tasks.service_requests_alert_overdue", "schedule": 300.0},
    "elevations-complete-due": {"task": "tickets.tasks.elevations_complete_due", "schedule": 60.0},
    "domain-proofs-look-up": {"task": "tickets.tasks.domain_proofs_look_up", "schedule": 300.0},
    # Daily: copy the audit chain's head out of the database, and check the whole chain.
    "outbox-prune-sent": {"task": "notifications.tasks.outbox_prune_sent", "schedule": 86400.0},
    "audit-head-publish": {"task": "tickets.tasks.audit_head_publish", "schedule": 86400.0},
    "audit-log-check": {"task": "tickets.tasks.audit_log_check", "schedule": 86400.0},
    "personal-data-purge": {"task": "tickets.tasks.service_requests_purge_expired", "schedule": 86400.0},
}
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

CAPTCHA_LENGTH = 6
CAPTCHA_FONT_SIZE = 30
CAPTCHA_LETTER_ROTATION = (-20, 20)
CAPTCHA_NOISE_FUNCTIONS = ("captcha.helpers.noise_dots",)  # legible for people, still not plain text
CAPTCHA_TIMEOUT = 15  # minutes
CAPTCHA_CHALLENGE_FUNCT = "portal.captcha.audio.challenge"

OTP_TOTP_ISSUER = "Escalation portal"
OTP_TOTP_THROTTLE_FACTOR = 1
OTP_STATIC_THROTTLE_FACTOR = 1

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = 12 * 3600
# A secret link's token, exchanged for a cookie scoped to its request's pages (tickets/link_cookies.py).
LINK_COOKIE_MAX_AGE = 2 * 3600
X_FRAME_OPTIONS = "DENY"

# Content-Security-Policy on every page (django-csp): our own scripts, styles and images only; no inline
# script or style anywhere (the templates have none: tests/test_csp.py); never in a frame. The demo
# reports instead of blocking (portal/settings/local.py).
CSP_DIRECTIVES = {
    "default-src": [SELF],
    "script-src": [SELF],
    "style-src": [SELF],
    "img-src": [SELF, "data:"],
    "media-src": [SELF],
    "font-src": [SELF],
    "connect-src": [SELF],
    "form-action": [SELF],
    "frame-ancestors": [NONE],
    "base-uri": [NONE],
    "object-src": [NONE],
}
CONTENT_SECURITY_POLICY = {"DIRECTIVES": CSP_DIRECTIVES}

# Domain settings.
SERVICE_REQUEST_SLA = timedelta(hours=env.int("SERVICE_REQUEST_SLA_HOURS", default=24))
SERVICE_REQUEST_CONFIRMATION_WINDOW = timedelta(hours=24)
SERVICE_REQUEST_TRACKING_GRACE = timedelta(days=30)
SERVICE_REQUEST_RATE = env.str("SERVICE_REQUEST_RATE", default="5/h")
EVIDENCE_MAX_BYTES = 10 * 1024 * 1024
EVIDENCE_MAX_FILES = 5
OUTBOX_RESEND_AFTER = timedelta(minutes=env.int("OUTBOX_RESEND_AFTER_MINUTES", default=3))
# Takeover resistance (docs/security.md).
# After a supervisor approves, the elevation waits this long for an objection before it takes effect.
ELEVATION_WAITING_PERIOD = timedelta(minutes=env.int("ELEVATION_WAITING_MINUTES", default=72 * 60))
# A supervisor may shorten it, with a recorded reason, never below this.
ELEVATION_WAITING_MINIMUM = timedelta(minutes=env.int("ELEVATION_WAITING_MINIMUM_MINUTES", default=60))
# An active global admin who signed in this recently blocks the support path (they can add an admin).
ACTIVE_ADMIN_RECENT_SIGNIN = timedelta(days=env.int("ACTIVE_ADMIN_RECENT_SIGNIN_DAYS", default=30))
# Each line is a set of passed checks that, with the confirmed email and the former admin confirmed gone,
# allows a proposal: two independent channels. The confirmed work email never counts as a channel.
ELEVATION_PROOF_COMBINATIONS = [
    ["callback_on_record", "domain_dns"],
    ["callback_on_record", "identity_evidence", "company_details"],
]
# Domain proof: TXT record at <prefix>.<domain>, looked up with this resolver ("" = the system's;
# an IP address, "IP:port" or "[IPv6]:port"; not a host name).
DOMAIN_PROOF_PREFIX = "_escalation-portal"
DNS_RESOLVER = env.str("DNS_RESOLVER", default="")
DNS_TIMEOUT = env.float("DNS_TIMEOUT_SECONDS", default=3.0)
# The periodic lookup looks again at most this often per request, for requests this recent.
DOMAIN_PROOF_RECHECK = timedelta(minutes=10)
DOMAIN_PROOF_LOOKUP_FOR = timedelta(days=14)
# Closed requests keep their evidence files and personal data this long, then beat purges them.
PERSONAL_DATA_RETENTION = timedelta(days=env.int("PERSONAL_DATA_RETENTION_DAYS", default=90))
OUTBOX_MAX_ATTEMPTS = 30  # with the backoff below an hour, about a day of outage
# Sent emails are deleted this long after sending (what they said is not kept for ever).
OUTBOX_SENT_RETENTION = timedelta(days=env.int("OUTBOX_SENT_RETENTION_DAYS", default=30))
# Delivery (docs/operations.md, Outbox). A delivery task is cut short after the soft limit (the row records
# the failed try) and its process killed after the hard one; a claimed row whose sender vanished is
# claimed again after OUTBOX_CLAIM_TIMEOUT, which must outlast the hard limit.
OUTBOX_DELIVERY_SOFT_TIME_LIMIT = 60
OUTBOX_DELIVERY_TIME_LIMIT = 90
OUTBOX_CLAIM_TIMEOUT = timedelta(minutes=5)
# Beat hands due rows to the workers in batches of this many (one SMTP connection each), at most
# OUTBOX_RESEND_LIMIT rows a run.
OUTBOX_BATCH_SIZE = 50
OUTBOX_RESEND_LIMIT = 2000
# After the broker failed a hand-off, a process skips hand-offs this long (rows wait for beat) instead of
# making every request wait for the broker's timeout again.
OUTBOX_BROKER_PAUSE = timedelta(seconds=30)
# Every email's Message-ID is <outbox-{row id}@{this}>: the same for each copy of a message sent twice.
OUTBOX_MESSAGE_ID_DOMAIN = env.str("EMAIL_MESSAGE_ID_DOMAIN", default=urlsplit(SITE_URL).hostname or "localhost")

# /healthz and /readyz: each check (database, broker, a page) answers within this or counts as failed.
HEALTH_CHECK_TIMEOUT = env.float("HEALTH_CHECK_TIMEOUT_SECONDS", default=2.0)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}
