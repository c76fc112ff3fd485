"""gunicorn's settings for the web process: ``gunicorn -c gunicorn.conf.py portal.wsgi`` (docs/operations.md).

Everything an operator tunes comes from the environment; ``.env`` is read first, as every process of the
portal reads it (importing ``portal`` does: portal/environment.py). The demo (``make run``) keeps Django's
runserver.
"""

import os

from gunicorn.glogging import Logger

from portal.logs import JSON_FORMATTER, path_for_logs

# Behind the reverse proxy on the same host; GUNICORN_BIND=0.0.0.0:8000 (or unix:/run/portal/web.sock) otherwise.
bind = [os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")]

# Processes x threads = requests served at once. A request mostly waits on PostgreSQL, Redis or SMTP, so
# threads are cheap; processes use the cores. Defaults for 2 cores: 3 processes of 4 threads.
workers = int(os.environ.get("WEB_CONCURRENCY", (os.cpu_count() or 1) + 1))
threads = int(os.environ.get("GUNICORN_THREADS", 4))
worker_class = "gthread"

# A worker silent this long is killed and replaced; a restart (SIGHUP, deploy) lets requests in flight
# finish for graceful_timeout; an idle keep-alive connection from the proxy is closed after keepalive.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", 30))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", 30))
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", 5))
# Recycle a worker after this many requests (with jitter, so they do not all restart at once): bounds leaks.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", 1000))
max_requests_jitter = max_requests // 10

# The addresses whose X-Forwarded-Proto (and Forwarded) headers gunicorn believes: the reverse proxy's.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")

# Access log: the path (%(U)s), never the request line (%(r)s) or the query string (%(q)s), which carry
# the tracking, confirmation and objection tokens; no referrer (%(f)s: the previous page's query string),
# no address, no user agent. The request id joins it to the application's lines.
access_log_format = "%(m)s %(U)s %(s)s %(b)s %(M)sms request_id=%({x-request-id}o)s"
accesslog = "-"
errorlog = "-"
# No control socket (gunicornc): systemd drives the process with signals, and the default path,
# shared by every instance a user runs on the host, would be fought over.
control_socket_disable = True


class AccessLogWithoutSecrets(Logger):
    """gunicorn's logger, with the tokens some paths carry taken out of %(U)s (portal.logs.path_for_logs)."""

    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        atoms["U"] = path_for_logs(atoms["U"] or "")
        return atoms


logger_class = AccessLogWithoutSecrets

# gunicorn's own lines (start, stop, a worker killed, the access log) as JSON, like the application's.
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "portal.logs.RequestIdFilter"}},
    "formatters": {"json": JSON_FORMATTER},
    "handlers": {"json": {"class": "logging.StreamHandler", "formatter": "json", "filters": ["request_id"]}},
    "root": {"level": "INFO", "handlers": []},
    "loggers": {
        "gunicorn.error": {"level": "INFO", "handlers": ["json"], "propagate": False},
        "gunicorn.access": {"level": "INFO", "handlers": ["json"], "propagate": False},
    },
}
