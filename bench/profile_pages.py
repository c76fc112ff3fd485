"""Web CPU per request of the hot pages, in one process, under the production settings (not part of `make bench`).

Boots Django with portal.settings.production against a database of your own, fills it with service requests
by SQL, and times N requests of each page through django.test.Client's handler with time.process_time():
the public form GET, the filing POST (its CAPTCHA answered from the store), the tracking page and the agents'
queue (default, filtered, searched by domain and by reference). Prints the median CPU and wall milliseconds
and the queries per request. PROFILE=cumulative (or tottime) prints a cProfile of each page (wall time).

    export DJANGO_SETTINGS_MODULE=portal.settings.production PORTAL_ENV_FILE=/dev/null SECRET_KEY=... \
        DATABASE_URL=postgres://postgres@127.0.0.1:5432/portal_profile CELERY_BROKER_URL=redis://127.0.0.1:6379/9 \
        CACHE_URL=rediscache://127.0.0.1:6379/8 EMAIL_URL=smtp://127.0.0.1:25 STATIC_ROOT=/tmp/static \
        SECURE_SSL_REDIRECT=false ALLOWED_HOSTS=testserver SERVICE_REQUEST_RATE=1000000/h LOG_LEVEL=WARNING
    manage.py migrate && manage.py collectstatic --noinput
    python bench/profile_pages.py load 1000       # then: load 100000 (adds rows up to that count)
    python bench/profile_pages.py measure 30 [PAGE]

The agent it signs in is made with tests/factories.py (the test extras). Filings are published to the broker
and nobody consumes them: use a Redis database of your own and flush it afterwards.
"""

import re
import statistics
import sys
import time

import django

django.setup()

from captcha.models import CaptchaStore  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from tickets.models import ServiceRequest  # noqa: E402

COUNTRIES = ["FR", "DE", "GB", "US", "ES", "IT", "BE", "NL", "CH", "CA"]


def load(n):
    have = ServiceRequest.objects.count()
    if have >= n:
        return
    with connection.cursor() as c:
        c.execute(
            """
            INSERT INTO tickets_servicerequest (reference, category, status, language, company_legal_name, company_partner_id,
              company_domain, company_country, company_address, company_phone, requester_name, requester_email, requester_phone,
              requester_job_title, former_admin_name, former_admin_email, former_admin_reason, former_admin_details, elevate_email,
              elevate_name, reason, created_at, updated_at, sla_due_at, confirmation_token_hash, tracking_token_hash, dns_challenge,
              dns_answer, rejection_reason, admin_block_override_reason)
            SELECT 'SR-' || substr(lpad(i::text, 8, '0'), 1, 4) || '-' || substr(lpad(i::text, 8, '0'), 5, 4),
              'admin_left',
              (ARRAY['new','in_review','waiting_on_requester','rejected','elevated','awaiting_email_confirmation',
                     'verified','cancelled'])[1 + i %% 8],
              'en', 'Company ' || i || ' SARL', '', 'company' || i || '.example',
              (ARRAY['FR','DE','GB','US','ES','IT','BE','NL','CH','CA'])[1 + i %% 10], 'Somewhere', '+33 1 00 00 00 00',
              'Person ' || i, 'person' || i || '@company' || i || '.example', '+33 6', 'Manager', 'Old',
              'old@company' || i || '.example',
              'left', '', 'new' || i || '@company' || i || '.example', 'New', 'reason',
              now() - (i || ' minutes')::interval, now(), now() + ((i %% 100 - 50) || ' hours')::interval, '', '', '', '', '', ''
            FROM generate_series(%s, %s) AS i
            """,
            [have + 1, n],
        )
        c.execute("ANALYZE tickets_servicerequest")


def timed(client, fn, n, warm=3):
    handler = client.handler
    samples = []
    counts = []
    walls = []

    def wrapped(environ):
        before = len(connection.queries_log)
        t = time.process_time()
        w = time.perf_counter()
        try:
            return orig(environ)
        finally:
            samples.append(time.process_time() - t)
            walls.append(time.perf_counter() - w)
            counts.append(len(connection.queries_log) - before)

    orig = handler.__call__
    client.handler = wrapped
    try:
        for _ in range(warm):
            fn()
        import os

        prof = None
        if os.environ.get("PROFILE"):
            import cProfile

            prof = cProfile.Profile()
        with CaptureQueriesContext(connection):
            samples.clear()
            counts.clear()
            walls.clear()
            if prof:
                prof.enable()
            for _ in range(n):
                fn()
            if prof:
                prof.disable()
        if prof:
            import pstats

            pstats.Stats(prof).sort_stats(os.environ["PROFILE"]).print_stats(int(os.environ.get("TOP", "35")))
        queries = statistics.median(counts)
    finally:
        client.handler = handler
    return statistics.median(samples) * 1000, queries, statistics.median(walls) * 1000


def staff_client():
    from django.contrib.auth import get_user_model
    from django_otp import DEVICE_ID_SESSION_KEY

    user = get_user_model().objects.filter(email="bench-agent@support.example").first()
    if user is None:
        sys.path.insert(0, ".")
        from tests import factories

        user = factories.agent(email="bench-agent@support.example")
    client = Client()
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = user.totpdevice_set.first().persistent_id
    session.save()
    return client


FORM = {
    "company_legal_name": "Fabrikam SARL",
    "company_partner_id": "",
    "company_domain": "fabrikam.example",
    "company_country": "FR",
    "company_address": "12 rue de la Paix",
    "company_phone": "+33 1 70 00 00 01",
    "requester_name": "Claire Martin",
    "requester_email": "claire@fabrikam.example",
    "requester_phone": "+33 6 00 00 00 01",
    "requester_job_title": "Office manager",
    "former_admin_name": "Marc Ancien",
    "former_admin_email": "marc@fabrikam.example",
    "former_admin_reason": "left_company",
    "former_admin_details": "",
    "elevate_email": "claire@fabrikam.example",
    "elevate_name": "Claire Martin",
    "reason": "Nobody can manage our users.",
    "consent": "on",
}
URL = "/requests/new/admin_left/"


def pages():
    anon = Client()
    staff = staff_client()
    poster = Client()
    counter = [0]

    def form_get():
        r = anon.get(URL)
        assert r.status_code == 200, r.status_code

    def file_post():
        counter[0] += 1
        html = anon.get(URL).content.decode()
        key = re.search(r'name="captcha_0" value="([0-9a-f]+)"', html).group(1)
        data = {**FORM, "captcha_0": key, "captcha_1": CaptchaStore.objects.get(hashkey=key).response}
        r = poster.post(URL, data, REMOTE_ADDR=f"10.0.{counter[0] // 250}.{counter[0] % 250}")
        assert r.status_code == 302, re.findall(r"invalid-feedback.{0,400}", r.content.decode(), re.S)

    # tracking: a request with a known token
    from tickets import tokens

    sr = ServiceRequest.objects.filter(status="new").order_by("pk").first()
    raw = "bench-tracking-token"
    ServiceRequest.objects.filter(pk=sr.pk).update(tracking_token_hash=tokens.digest(raw))
    tracker = Client()
    r = tracker.get(f"/requests/{sr.reference}/?token={raw}")
    assert r.status_code == 302, r.status_code

    def track():
        r = tracker.get(f"/requests/{sr.reference}/")
        assert r.status_code == 200, r.status_code

    other = ServiceRequest.objects.filter(status="in_review").order_by("-pk").first()

    def queue(query):
        def get():
            r = staff.get("/admin/tickets/servicerequest/" + query)
            assert r.status_code == 200, r.status_code
            if "q=" in query:
                assert other.reference.encode() in r.content, query

        return get

    return {
        "form GET": (anon, form_get),
        "filing POST": (poster, file_post),
        "tracking": (tracker, track),
        "queue default": (staff, queue("")),
        "queue filter": (staff, queue("?status__exact=in_review")),
        "queue search domain": (staff, queue(f"?q={other.company_domain}")),
        "queue search reference": (staff, queue(f"?q={other.reference}")),
    }


def main():
    if sys.argv[1] == "load":
        load(int(sys.argv[2]))
        print("rows:", ServiceRequest.objects.count())
        return
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 30
    only = sys.argv[3] if len(sys.argv) > 3 else None
    rows = ServiceRequest.objects.count()
    for name, (client, fn) in pages().items():
        if only and only not in name:
            continue
        ms, q, wall = timed(client, fn, n)
        print(f"{rows:>7} rows  {name:<24} {ms:7.2f} ms CPU {wall:7.2f} ms wall (medians of {n})  {q:5.1f} queries", flush=True)


if __name__ == "__main__":
    main()
