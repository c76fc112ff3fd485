"""Production as an operator runs it: collectstatic, whitenoise's manifest, gunicorn, JSON logs.

portal/settings/test.py leaves whitenoise out; these tests run the production settings in processes of
their own (the test database, the test broker, STATIC_ROOT in a temporary folder), as a deploy would.
"""

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent
# The processes use the test database (read only); the mark makes pytest-django create it.
pytestmark = pytest.mark.django_db

HASHED_CSS = re.compile(r"/static/vendor/bootstrap/bootstrap\.min\.[0-9a-f]{12}\.css")


@pytest.fixture(scope="module")
def production_env(django_db_setup, tmp_path_factory):
    """The environment of a production process, on the database pytest-django created for this run."""
    s = connection.settings_dict
    database_url = (
        f"postgres://{quote(s['USER'])}:{quote(s['PASSWORD'] or '')}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"
    )
    folder = tmp_path_factory.mktemp("production")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "SENTRY_")) and k != "SECRET_KEY"}
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "portal.settings.production",
            "PORTAL_ENV_FILE": os.devnull,  # a developer's .env must not decide these tests
            "SECRET_KEY": "production-test-" + "x" * 50,
            "DATABASE_URL": database_url,
            "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
            "CACHE_URL": os.environ.get("TEST_CACHE_URL", "rediscache://127.0.0.1:6379/1"),
            "EMAIL_URL": "smtp://127.0.0.1:25",
            "VAR_DIR": str(folder / "var"),
            "STATIC_ROOT": str(folder / "static"),
            "SECURE_SSL_REDIRECT": "false",
            "ALLOWED_HOSTS": "testserver,127.0.0.1",
            "CONN_MAX_AGE": "0",  # no connection outlives a request: the test database can be dropped after
        }
    )
    return env


@pytest.fixture(scope="module")
def collected(production_env):
    """``manage.py collectstatic`` under the production settings, as a deploy runs it."""
    result = subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput"],
        cwd=ROOT,
        env=production_env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert (Path(production_env["STATIC_ROOT"]) / "staticfiles.json").exists()
    return production_env


# Runs in a process of its own under the production settings; prints one JSON line per request.
CLIENT_SCRIPT = """
import json, sys
import django
django.setup()
from django.test import Client

client = Client(raise_request_exception=False)  # a 500 is an answer here, as a browser sees it
for line in sys.stdin:
    request = json.loads(line)
    response = client.get(request["path"], headers=request.get("headers", {}))
    streamed = response.streaming_content if response.streaming else [response.content]
    print(json.dumps({
        "status": response.status_code,
        "headers": dict(response.headers),
        "body": b"".join(streamed).decode("utf-8", "replace"),
    }), flush=True)
"""


def _get(env, *requests):
    """GET each of ``requests`` (a path, or {"path": ..., "headers": {...}}) with django.test.Client in a
    production process; returns the responses and the process's log (stderr)."""
    lines = [json.dumps(r if isinstance(r, dict) else {"path": r}) for r in requests]
    result = subprocess.run(
        [sys.executable, "-c", CLIENT_SCRIPT],
        cwd=ROOT,
        env=env,
        input="\n".join(lines) + "\n",
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()], result.stderr


def _json_lines(log):
    records = [json.loads(line) for line in log.splitlines() if line.strip()]
    assert records, "no log line at all"
    return records


@pytest.mark.parametrize("path", ["/login/", "/requests/new/"])
def test_pages_render_with_whitenoise_and_the_manifest_and_their_static_files_are_served(collected, path):
    (page,), _ = _get(collected, path)
    assert page["status"] == 200, page["body"][:2000]
    # The page names the hashed file of the manifest, and whitenoise serves it, for a year, unchanged.
    stylesheet = HASHED_CSS.search(page["body"])
    assert stylesheet, "no hashed stylesheet in the page"
    (served,), _ = _get(collected, stylesheet.group(0))
    assert served["status"] == 200
    assert "immutable" in served["headers"]["Cache-Control"]
    on_disk = Path(collected["STATIC_ROOT"]) / stylesheet.group(0).removeprefix("/static/")
    assert served["body"] == on_disk.read_text()


def test_without_collectstatic_readiness_fails_while_liveness_and_health_answer(production_env, tmp_path):
    # What the issue saw: no manifest, every page 500, /healthz 200. /readyz must take it out of rotation.
    env = {**production_env, "STATIC_ROOT": str(tmp_path / "never-collected")}
    (login, healthz, livez, readyz), _ = _get(env, "/login/", "/healthz", "/livez", "/readyz")
    assert login["status"] == 500
    assert healthz["status"] == 200
    assert livez["status"] == 200
    assert readyz["status"] == 503
    assert json.loads(readyz["body"]) == {"database": "ok", "broker": "ok", "page": "error: ValueError"}


def test_with_collectstatic_the_instance_is_ready(collected):
    (readyz,), _log = _get(collected, "/readyz")
    assert readyz["status"] == 200, readyz["body"] + _log
    assert json.loads(readyz["body"]) == {"database": "ok", "broker": "ok", "page": "ok"}


def test_a_request_logs_one_json_line_with_its_id_and_no_query_string(collected):
    (response,), log = _get(collected, {"path": "/login/?token=SECRET-QUERY", "headers": {"X-Request-ID": "lb-42.a_b"}})
    assert response["status"] == 200
    assert response["headers"]["X-Request-ID"] == "lb-42.a_b"
    records = _json_lines(log)
    mine = [r for r in records if r.get("request_id") == "lb-42.a_b"]
    assert len(mine) == 1, records
    assert mine[0]["logger"] == "portal.request"
    assert mine[0]["message"] == "GET login/ 200"
    assert mine[0]["status"] == 200 and mine[0]["level"] == "INFO"
    assert "SECRET-QUERY" not in log


def test_every_line_of_a_request_carries_its_id_even_those_django_writes_after_the_response(collected):
    # A 404 is logged by django.request once the middleware has returned; a tracking link's token is in
    # its query string, and Django's own record carries the request (str() of which shows the query).
    (response,), log = _get(collected, "/no-such-page/?token=SECRET-QUERY")
    assert response["status"] == 404
    request_id = response["headers"]["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", request_id)
    records = [r for r in _json_lines(log) if r["logger"] in ("django.request", "portal.request")]
    assert {r["logger"] for r in records} == {"django.request", "portal.request"}, records
    assert all(r["request_id"] == request_id for r in records), records
    assert "SECRET-QUERY" not in log


def test_the_token_in_a_set_password_path_is_not_logged(collected):
    (response,), log = _get(collected, "/account/set-password/MQ/SECRET-PATH-TOKEN/")
    assert response["status"] == 200
    assert any(r.get("message") == "GET account/set-password/<uidb64>/<token>/ 200" for r in _json_lines(log))
    assert "SECRET-PATH-TOKEN" not in log


@pytest.mark.parametrize("incoming", ["has space", "x" * 65, 'quote"', "<script>", ""])
def test_an_unsafe_incoming_request_id_is_replaced(collected, incoming):
    (response,), log = _get(collected, {"path": "/livez", "headers": {"X-Request-ID": incoming}})
    request_id = response["headers"]["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", request_id)
    assert [r["request_id"] for r in _json_lines(log) if r["logger"] == "portal.request"] == [request_id]


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Gunicorn:
    """``gunicorn -c gunicorn.conf.py portal.wsgi`` on a free port, its output in a file."""

    def __init__(self, env, log_path):
        self.port = _free_port()
        self.log_path = log_path
        self.env = {**env, "WEB_CONCURRENCY": "1", "GUNICORN_THREADS": "2"}

    def __enter__(self):
        self.log = open(self.log_path, "w")  # noqa: SIM115  (closed in __exit__)
        self.process = subprocess.Popen(
            [
                str(Path(sys.executable).with_name("gunicorn")),
                "-c",
                "gunicorn.conf.py",
                "--bind",
                f"127.0.0.1:{self.port}",
                "portal.wsgi",
            ],
            cwd=ROOT,
            env=self.env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.log_path.read_text()
            try:
                if self.get("/livez")[0] == 200:
                    return self
            except OSError:
                time.sleep(0.1)
        raise AssertionError("gunicorn did not answer /livez in 30 s:\n" + self.log_path.read_text())

    def get(self, path):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=10) as response:  # noqa: S310  (our own server)
                return response.status, dict(response.headers), response.read()
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers), error.read()

    def __exit__(self, *exc):
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)
        self.log.close()


def test_gunicorn_serves_pages_and_static_files_and_its_log_holds_no_token(collected, tmp_path):
    log_path = tmp_path / "gunicorn.log"
    with Gunicorn(collected, log_path) as server:
        status, _, body = server.get("/login/?token=SECRET-QUERY")
        assert status == 200
        stylesheet = HASHED_CSS.search(body.decode())
        assert stylesheet, "no hashed stylesheet in the page"
        status, headers, _ = server.get(stylesheet.group(0) + "?v=SECRET-QUERY")
        assert status == 200 and "immutable" in headers["Cache-Control"]
        status, _, _ = server.get("/requests/new/?token=SECRET-QUERY&email=someone%40example.com")
        assert status == 200
        status, _, _ = server.get("/account/set-password/MQ/SECRET-PATH-TOKEN/?token=SECRET-QUERY")
        assert status == 200
        status, _, body = server.get("/readyz")
        assert status == 200, body
    log = log_path.read_text()
    access = [r for r in _json_lines(log) if r["logger"] == "gunicorn.access"]
    # The access log is there (the test would pass on an empty one otherwise), with paths and request ids.
    # Sorted: each of the two workers writes its line after its answer, so two lines may come in either order.
    assert sorted(r["message"].split()[:3] for r in access if "livez" not in r["message"]) == sorted(
        [
            ["GET", "/login/", "200"],
            ["GET", stylesheet.group(0), "200"],
            ["GET", "/requests/new/", "200"],
            ["GET", "/account/set-password/-/-/", "200"],
            ["GET", "/readyz", "200"],
        ]
    )
    assert all(re.search(r"request_id=[0-9a-f]{32}$", r["message"]) for r in access), access
    assert "SECRET" not in log
    assert "someone" not in log


SENTRY_SCRIPT = """
import json
import django
django.setup()
import sentry_sdk
from sentry_sdk.transport import Transport

client = sentry_sdk.get_client()
print(json.dumps({"active": client.is_active()}), flush=True)
if client.is_active():
    sent = []

    class Kept(Transport):  # instead of the network: keeps what would have been sent
        def capture_envelope(self, envelope):
            sent.extend(item.payload.json for item in envelope.items if item.payload.json)

    client.transport = Kept(client.options)
    from django.test import Client

    browser = Client(raise_request_exception=False)
    browser.cookies["sessionid"] = "SECRET-COOKIE"
    response = browser.get("/login/?token=SECRET-QUERY", headers={"Referer": "https://x.example/requests/A/?token=SECRET-REFERER"})
    sentry_sdk.flush()
    print(json.dumps({"status": response.status_code, "events": sent, "pii": client.options["send_default_pii"]}), flush=True)
"""


def _sentry(env):
    result = subprocess.run([sys.executable, "-c", SENTRY_SCRIPT], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_without_a_sentry_dsn_sentry_is_not_started(production_env):
    assert _sentry(production_env) == [{"active": False}]


def test_with_a_sentry_dsn_an_error_is_reported_without_tokens_cookies_or_referrer(production_env, tmp_path):
    # A page that fails (no collectstatic): Django's integration reports it. Nothing leaves the process:
    # the transport is replaced, and the DSN names a closed port on this machine anyway.
    env = {**production_env, "STATIC_ROOT": str(tmp_path / "never-collected"), "SENTRY_DSN": "http://public@127.0.0.1:9/1"}
    started, reported = _sentry(env)
    assert started == {"active": True}
    assert reported["status"] == 500 and reported["pii"] is False
    errors = [e for e in reported["events"] if e.get("exception")]
    assert errors, reported["events"]
    assert errors[0]["exception"]["values"][-1]["type"] == "ValueError"
    assert errors[0]["transaction"] == "/login/"  # the URL pattern, never the query string
    assert "SECRET" not in json.dumps(reported["events"])


def test_before_send_scrubs_query_strings_cookies_and_path_tokens():
    from portal.sentry import before_send

    event = {
        "request": {
            "url": "https://portal.example.com/account/set-password/MQ/SECRET-PATH/?token=SECRET-QUERY",
            "query_string": "token=SECRET-QUERY",
            "method": "POST",
            "cookies": {"sessionid": "SECRET-COOKIE"},
            "data": {"requester_email": "someone@example.com"},
            "headers": {"Cookie": "sessionid=SECRET-COOKIE", "Referer": "https://x/?token=SECRET-REFERER", "User-Agent": "Firefox"},
        },
        "breadcrumbs": {
            "values": [{"category": "httplib", "data": {"url": "https://x/?token=SECRET-CRUMB", "http.query": "token=SECRET-CRUMB"}}]
        },
    }
    scrubbed = before_send(event, {})
    assert "SECRET" not in json.dumps(scrubbed) and "someone" not in json.dumps(scrubbed)
    assert scrubbed["request"]["url"] == "https://portal.example.com/account/set-password/-/-/"
    assert scrubbed["request"]["headers"] == {"User-Agent": "Firefox"}
    assert scrubbed["breadcrumbs"]["values"][0]["data"] == {"url": "https://x/"}
