"""Browser journeys: Debian's Chromium driven by Playwright against a live server on PostgreSQL and Redis,
a real Celery worker, and a local SMTP server whose emails the tests read and follow.

One live server, worker, mailbox and browser for the whole e2e package: the journeys share the story
(the requester's request is the one the agent checks, the supervisor approves...), so the database is
not emptied between them; it is emptied once at the end, as a transactional test does.
"""

import os
import shutil
from pathlib import Path

import pytest
from celery.contrib.testing.worker import start_worker
from django.contrib.staticfiles.handlers import StaticFilesHandler
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection
from django.test.testcases import LiveServerThread
from django.test.utils import override_settings, setup_databases

from portal.celery import app as celery_app

from .mailbox import Mailbox

SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"


def chromium_path() -> str | None:
    """CHROMIUM_PATH, or Debian's chromium on the PATH (`make test` installs it when it can)."""
    return os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """pytest-playwright launches Debian's Chromium: Playwright's own browser download is not available here."""
    path = chromium_path()
    if not path:
        pytest.fail("Chromium not found: install Debian's chromium package or set CHROMIUM_PATH")
    return {**browser_type_launch_args, "executable_path": path, "headless": True}


@pytest.fixture(scope="package")
def playwright():
    """Playwright for this package only (pytest-playwright's is the session's): its event loop stops with
    the browser tests, so that no later test runs Django's ORM beside a running loop."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="package")
def browser(playwright, browser_type_launch_args):
    """One headless Chromium for all the browser tests."""
    browser = playwright.chromium.launch(**browser_type_launch_args)
    yield browser
    browser.close()


@pytest.fixture(autouse=True)
def _clean_cache_and_files():
    """Overrides the suite's per-test emptying of Redis and the evidence folder: the journeys share them."""
    yield


@pytest.fixture(scope="package")
def site(django_db_setup, django_db_blocker, tmp_path_factory):
    """The portal served on 127.0.0.1 by a threaded live server, emails to a local SMTP server, a Celery worker.

    Yields an object with ``url`` and ``mail`` (the Mailbox). Data written here is committed (the server's
    threads must see it); the database is emptied when the session ends.
    """
    # Playwright's sync API runs an event loop in this thread; Django's ORM, called by the tests for their
    # starting fixtures and reads, refuses to run beside one unless told (the loop never runs our code).
    previous_async = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    mailbox = Mailbox().start()
    server = LiveServerThread("127.0.0.1", StaticFilesHandler)
    server.daemon = True
    server.start()
    server.is_ready.wait()
    if server.error:
        raise server.error
    url = f"http://127.0.0.1:{server.port}"
    overrides = override_settings(
        SITE_URL=url,
        CSRF_TRUSTED_ORIGINS=[url],
        ALLOWED_HOSTS=["127.0.0.1", "localhost", "testserver"],
        EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
        EMAIL_HOST=mailbox.address[0],
        EMAIL_PORT=mailbox.address[1],
        EMAIL_USE_TLS=False,
        EMAIL_USE_SSL=False,
        EMAIL_HOST_USER="",
        EMAIL_HOST_PASSWORD="",
        EMAIL_TIMEOUT=5,
        PRIVATE_MEDIA_ROOT=tmp_path_factory.mktemp("e2e-private"),
    )
    overrides.enable()
    django_db_blocker.unblock()
    if not connection.settings_dict["NAME"].startswith("test_"):
        # pytest-django sets up the test database only for tests that ask for ``db`` (per test, rolled back
        # or flushed): run alone, these tests get it here, kept for the next run as --reuse-db does.
        setup_databases(verbosity=0, interactive=False, aliases={"default"}, keepdb=True)
    cache.clear()
    celery_app.control.purge()  # tasks other tests published without a worker: not this story's
    worker = start_worker(celery_app, pool="solo", perform_ping_check=False, shutdown_timeout=10)
    worker.__enter__()

    class Site:
        pass

    s = Site()
    s.url, s.mail, s.server = url, mailbox, server
    try:
        yield s
    finally:
        worker.__exit__(None, None, None)
        server.terminate()
        server.join()
        mailbox.stop()
        call_command("flush", interactive=False, verbosity=0)
        cache.clear()
        django_db_blocker.restore()
        overrides.disable()
        if previous_async is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous_async


@pytest.fixture(scope="package")
def new_context(browser, site):
    """``new_context(lang="en")``: a fresh browser profile (its own cookies), as another person's browser."""
    contexts = []

    def make(lang="en"):
        context = browser.new_context(base_url=site.url, locale="fr-FR" if lang == "fr" else "en-GB")
        context.set_default_timeout(15_000)
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()


def screenshot(page, name: str):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
