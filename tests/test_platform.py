"""Health check, settings and translations: what an operator and a French user notice."""

import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def test_healthz_reports_database_and_broker(client, db):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"database": "ok", "broker": "ok"}


def test_healthz_names_the_broker_when_it_is_down(client, db):
    from portal.celery import app

    original = app.conf.broker_url
    app.conf.broker_url = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    try:
        response = client.get("/healthz")
    finally:
        app.conf.broker_url = original
    assert response.status_code == 503
    body = response.json()
    assert body["database"] == "ok" and body["broker"] != "ok"


def test_livez_answers_without_the_database_or_the_broker(client):
    # No db fixture: a query would fail the test. A broker outage must not make the process look dead.
    from portal.celery import app

    original = app.conf.broker_url
    app.conf.broker_url = "redis://127.0.0.1:1/0"
    try:
        response = client.get("/livez")
    finally:
        app.conf.broker_url = original
    assert response.status_code == 200
    assert response.content == b"ok"


def test_readyz_reports_database_broker_and_a_rendered_page(client, db):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"database": "ok", "broker": "ok", "page": "ok"}


def test_readyz_names_the_broker_when_it_is_down(client, db):
    from portal.celery import app

    original = app.conf.broker_url
    app.conf.broker_url = "redis://127.0.0.1:1/0"
    try:
        response = client.get("/readyz")
    finally:
        app.conf.broker_url = original
    assert response.status_code == 503
    assert response.json() == {"database": "ok", "broker": "error: OperationalError", "page": "ok"}


@pytest.fixture
def silent_server():
    """A TCP server on 127.0.0.1 that accepts connections and never says a word: a hung database."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    yield server.getsockname()[1]
    server.close()


@pytest.mark.parametrize("endpoint", ["/healthz", "/readyz"])
def test_a_database_that_never_answers_fails_the_check_in_time(client, db, settings, silent_server, endpoint):
    from django.db import connections

    # The checks' own connections (one per check thread) go to the silent server; this test's stays.
    settings.HEALTH_CHECK_TIMEOUT = 0.5
    original = connections.settings["default"]
    connections.settings["default"] = {**original, "HOST": "127.0.0.1", "PORT": str(silent_server)}
    try:
        # In a thread of its own, so that a probe that hangs fails this test instead of hanging it.
        answered = {}
        probe = threading.Thread(target=lambda: answered.update(response=client.get(endpoint)), daemon=True)
        started = time.monotonic()
        probe.start()
        probe.join(5)
        elapsed = time.monotonic() - started
    finally:
        connections.settings["default"] = original
    assert "response" in answered, f"{endpoint} did not answer in 5 s"
    response = answered["response"]
    assert response.status_code == 503
    assert response.json()["database"] == "timeout"
    assert response.json()["broker"] == "ok"
    assert elapsed < 2


def _run_settings(module, env_extra):
    env = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "DJANGO_SETTINGS_MODULE")}
    # PORTAL_ENV_FILE: a developer's own .env (with a SECRET_KEY, say) must not decide these tests.
    env.update({"DJANGO_SETTINGS_MODULE": module, "VAR_DIR": str(ROOT / "var"), "PORTAL_ENV_FILE": os.devnull, **env_extra})
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )


def test_production_refuses_to_start_without_secret_key():
    result = _run_settings("portal.settings.production", {"DATABASE_URL": "postgres://x@127.0.0.1/x"})
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


@pytest.mark.parametrize("missing", ["CELERY_BROKER_URL", "EMAIL_URL"])
def test_production_refuses_to_fall_back_to_the_demo_broker_or_mail_files(missing):
    env = {
        "SECRET_KEY": "x" * 60,
        "DATABASE_URL": "postgres://x@127.0.0.1/x",
        "CELERY_BROKER_URL": "redis://127.0.0.1:6379/0",
        "EMAIL_URL": "smtp://127.0.0.1:25",
    }
    del env[missing]
    result = _run_settings("portal.settings.production", env)
    assert result.returncode != 0
    assert missing in result.stderr


# Entry points started with no DJANGO_SETTINGS_MODULE: what a server, a worker or beat, or an operator's
# manage.py command runs. Only PATH is kept from this process, so nothing of the test's settings leaks in.
ENTRY_POINTS = {
    "portal.wsgi": "import portal.wsgi",
    "portal.asgi": "import portal.asgi",
    "portal.celery": "from portal.celery import app; app.loader.import_default_modules()",
}
SHOW_SETTINGS = "from django.conf import settings; print('SETTINGS', settings.SETTINGS_MODULE, 'DEBUG', settings.DEBUG)"


def _run_bare(code, env_file, **env_extra):
    env = {"PATH": os.environ["PATH"], "PORTAL_ENV_FILE": str(env_file), "VAR_DIR": str(ROOT / "var"), **env_extra}
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("entry_point", sorted(ENTRY_POINTS))
def test_without_a_settings_module_the_entry_points_refuse_to_start_without_a_secret(entry_point, tmp_path):
    result = _run_bare(ENTRY_POINTS[entry_point] + "; " + SHOW_SETTINGS, os.devnull, DEBUG="true")
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr
    assert "SETTINGS" not in result.stdout


PRODUCTION_ENV = {
    "SECRET_KEY": "x" * 60,
    "DATABASE_URL": "postgres://x@127.0.0.1/x",
    "CELERY_BROKER_URL": "redis://127.0.0.1:6379/0",
    "EMAIL_URL": "smtp://127.0.0.1:25",
}


@pytest.mark.parametrize("entry_point", sorted(ENTRY_POINTS))
def test_without_a_settings_module_the_entry_points_run_production_never_debug(entry_point):
    # DEBUG=true in the environment must not turn it on either: only the local settings read it.
    result = _run_bare(ENTRY_POINTS[entry_point] + "; " + SHOW_SETTINGS, os.devnull, DEBUG="true", **PRODUCTION_ENV)
    assert "SETTINGS portal.settings.production DEBUG False" in result.stdout, result.stderr


def test_without_a_settings_module_manage_py_runs_production_never_debug():
    env = {"PATH": os.environ["PATH"], "PORTAL_ENV_FILE": os.devnull, "VAR_DIR": str(ROOT / "var"), "DEBUG": "true"}
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", SHOW_SETTINGS], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode != 0 and "SECRET_KEY must be set" in result.stderr
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", SHOW_SETTINGS],
        cwd=ROOT,
        env={**env, **PRODUCTION_ENV},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "SETTINGS portal.settings.production DEBUG False" in result.stdout, result.stderr


def test_every_model_change_has_its_migration_checked_as_on_a_fresh_clone(tmp_path):
    """``manage.py makemigrations --check`` with nothing set (it reads only the source tree, so it needs no
    secret): fails on a model change that has no migration, in any app."""
    env = {"PATH": os.environ["PATH"], "PORTAL_ENV_FILE": os.devnull, "VAR_DIR": str(tmp_path / "var")}
    result = subprocess.run(
        [sys.executable, "manage.py", "makemigrations", "--check", "--dry-run"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0 and "No changes detected" in result.stdout, result.stdout + result.stderr


@pytest.mark.parametrize("command", [["-c", "import portal.wsgi; " + SHOW_SETTINGS], ["manage.py", "shell", "-c", SHOW_SETTINGS]])
def test_the_dotenv_file_can_choose_the_settings_module(tmp_path, command):
    # Not the default (production): the file, not the fall-back, must be what chose it.
    env_file = tmp_path / ".env"
    env_file.write_text("DJANGO_SETTINGS_MODULE=portal.settings.local\n")
    env = {"PATH": os.environ["PATH"], "PORTAL_ENV_FILE": str(env_file), "VAR_DIR": str(tmp_path / "var")}
    result = subprocess.run([sys.executable, *command], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert "SETTINGS portal.settings.local DEBUG True" in result.stdout, result.stderr


def test_the_environment_wins_over_the_dotenv_file(tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text("DJANGO_SETTINGS_MODULE=portal.settings.local\nSITE_URL=https://from-the-file.example\n")
    result = _run_bare(
        "import portal.wsgi; from django.conf import settings; print(settings.SETTINGS_MODULE, settings.SITE_URL)",
        env_file,
        DJANGO_SETTINGS_MODULE="portal.settings.production",
        SITE_URL="https://from-the-environment.example",
        **PRODUCTION_ENV,
    )
    assert result.stdout.split() == ["portal.settings.production", "https://from-the-environment.example"], result.stderr


def test_the_dotenv_file_is_read_once_before_the_settings_read_it(tmp_path):
    # VAR_DIR is the first variable the settings read; the file must already be loaded by then.
    env_file = tmp_path / ".env"
    env_file.write_text(f"DJANGO_SETTINGS_MODULE=portal.settings.local\nVAR_DIR={tmp_path / 'var-from-dotenv'}\n")
    code = (
        "import environ; reads = []; read_env = environ.Env.read_env;"
        "environ.Env.read_env = lambda *a, **k: (reads.append(a), read_env(*a, **k))[1];"
        "import portal.wsgi; from django.conf import settings;"
        "print(len(reads), settings.VAR_DIR, settings.CELERY_BROKER_TRANSPORT_OPTIONS['control_folder'])"
    )
    env = {"PATH": os.environ["PATH"], "PORTAL_ENV_FILE": str(env_file)}
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    reads, var_dir, control_folder = result.stdout.split()
    assert reads == "1", result.stderr
    assert var_dir == str(tmp_path / "var-from-dotenv")
    # kombu's filesystem transport keeps its exchange tables there too, not in a control/ folder of the current directory.
    assert Path(control_folder).is_relative_to(var_dir)


def test_production_settings_pass_the_deploy_check():
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "portal.settings.production",
            "SECRET_KEY": "x" * 60 + "-Yz9!",
            "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/portal",
            "ALLOWED_HOSTS": "portal.example.com",
            "CELERY_BROKER_URL": "redis://127.0.0.1:6379/0",
            "EMAIL_URL": "smtp://127.0.0.1:2525",
            "SITE_URL": "https://portal.example.com",
        }
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_smtp_email_url_is_understood():
    code = "from django.conf import settings as s; print(s.EMAIL_BACKEND, s.EMAIL_HOST, s.EMAIL_PORT)"
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    env.update({"DJANGO_SETTINGS_MODULE": "portal.settings.local", "EMAIL_URL": "smtp://mail.internal:2525"})
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup();" + code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert "smtp.EmailBackend mail.internal 2525" in result.stdout, result.stderr


def test_french_translations_compile():
    po = ROOT / "locale" / "fr" / "LC_MESSAGES" / "django.po"
    result = subprocess.run(["msgfmt", "--check", "-o", "/dev/null", str(po)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    untranslated = subprocess.run(["msgattrib", "--untranslated", "--no-obsolete", str(po)], capture_output=True, text=True).stdout
    assert untranslated.count("msgid ") <= 1, "every string has a French translation:\n" + untranslated[:2000]
    # A fuzzy entry (left by makemessages when a string changed) counts as translated but is not compiled.
    fuzzy = subprocess.run(["msgattrib", "--only-fuzzy", "--no-obsolete", str(po)], capture_output=True, text=True).stdout
    assert "msgid " not in fuzzy, "no French translation is left fuzzy:\n" + fuzzy[:2000]


@pytest.mark.parametrize(
    "path, french",
    [
        ("/requests/new/", "Nouvelle demande"),
        ("/requests/new/admin_left/", "Votre entreprise"),
        ("/requests/access/", "Suivre une demande"),
    ],
)
def test_french_pages_render_in_french(client, db, path, french):
    response = client.get(path, HTTP_ACCEPT_LANGUAGE="fr")
    assert response.status_code == 200
    assert french in response.content.decode()
    assert 'lang="fr"' in response.content.decode()


def test_seed_demo_refuses_to_run_without_debug(db):
    from django.core.management import CommandError, call_command

    with pytest.raises(CommandError, match="DEBUG"):
        call_command("seed_demo")
