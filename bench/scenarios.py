"""The bench's run, step by step: set up, measure the ceilings, the portal's pages and its background work,
load the full volume, measure the queue again, then the peer. Each step adds rows to the results."""

import asyncio
import json
import re
import subprocess
import time
from dataclasses import dataclass, field

import psycopg
import redis

from . import figure_rows, flows, peer, stack
from .client import Client
from .load import Phase, clients_for, run_phase
from .procs import Processes, children, cpu_seconds, rss_mb
from .report import Row, verdict
from .sink import Sink

CONFIRM_LINK = re.compile(r"https?://[^/\s]+(/requests/[A-Z0-9-]+/confirm/\?token=[\w-]+)")
QUEUE = "/admin/tickets/servicerequest/"
METHOD = [
    "Web: each server under gunicorn with the portal's gunicorn.conf.py, `--workers 2 --worker-class sync`, no worker"
    " recycling during the run (GUNICORN_MAX_REQUESTS=0); the portal on portal.settings.production, with collected static files.",
    "Load: asyncio clients on loopback, HTTP/1.1, one connection per request, each client with its own cookie jar and"
    " address (X-Bench-Client, read through CLIENT_IP_META_KEY), and X-Forwarded-Proto: https as the proxy sends it.",
    "Filing: GET the form, read the CSRF token and the CAPTCHA key from the page and the CAPTCHA's answer from its store"
    " by key, POST. The portal allows 5 filings an hour per address: each filing comes from an address of its own.",
    "Filing POST CPU: the phase's web CPU less its form GETs at the form GET's CPU per request, per POST.",
    "Queue pages: one agent signed in through /login/ (password, then the TOTP code), 2 clients; query counts from a"
    " verified staff session in django.test.Client against the same database.",
    "Outbox: N emails written by outbox_enqueue in one transaction, handed to the broker on commit; emails/s = N / (last"
    " arrival at the sink − commit). No-op: N tasks published, counted done (Redis INCR) by a worker of the same"
    " concurrency (2) and settings on the same broker.",
    "Approval: requests proposed with the tests' flow helpers, then elevation_approve one at a time; latency = the last"
    " of its emails at the sink (by Message-ID) − the approval's commit.",
]


@dataclass
class Scenarios:
    env: dict
    procs: Processes
    sink: Sink
    web_port: int
    rows: list[Row]
    notes: list[str]
    phases: list[Phase]
    figures: dict = field(default_factory=dict)

    # --- helpers ---------------------------------------------------------------------------------------------

    def web_pids(self) -> list[int]:
        return children(self.web.pid)

    def phase(self, name: str, clients: list[Client], total: int, operation, pids=None, ok=(200,)) -> Phase:
        result = run_phase(name, clients, total, operation, pids or self.web_pids, ok=ok)
        self.phases.append(result)
        print(
            f"  {name}: {result.measured} in {result.seconds:.1f} s, {result.rps:.1f}/s, p95 {result.p95_ms:.0f} ms, "
            f"{result.errors} errors",
            flush=True,
        )
        return result

    def log(self, text: str) -> None:
        print(f"[{time.strftime('%H:%M:%S')}] {text}", flush=True)

    # --- the run ----------------------------------------------------------------------------------------------

    def run(self, generate, small: dict, volume: dict, scale: float, data_scale: float) -> None:
        self.scale, self.data_scale = scale, data_scale
        self.notes.extend(METHOD)
        if scale != 1 or data_scale != 1:
            self.notes.append(
                f"Scaled down from the issue's figures on a busy machine: request counts × {scale} (BENCH_SCALE),"
                f" data volumes × {data_scale} (BENCH_DATA_SCALE)."
            )
        self.log("databases and Redis")
        stack.flush_redis()
        stack.recreate_database(stack.PORTAL_DB)
        stack.manage(self.env, "migrate", "--noinput", "-v", "0")
        self.log(f"data: {small}")
        seconds = generate(self.env, small)
        self.notes.append(f"Data generator (generate_bench_data): {small['requests']:,} requests in {seconds:.0f} s first.")
        stack.manage(self.env, "collectstatic", "--noinput", "-v", "0")
        self.start_servers()
        self.ceilings()
        self.agent_session()
        self.queue_pages("1k")
        self.public_pages()
        self.memory()
        self.background()
        self.show_workers()
        self.log(f"data: up to {volume}")
        rest = {k: volume[k] - small[k] for k in volume}
        seconds = generate(self.env, rest)
        self.notes.append(
            f"Then up to {volume['requests']:,} requests ({volume['tenants']:,} tenants, {volume['users']:,} users)"
            f" in {seconds:.0f} s."
        )
        with psycopg.connect(self.env["DATABASE_URL"], autocommit=True) as conn:
            conn.execute("ANALYZE")
        self.queue_pages("100k")
        self.rows += figure_rows.queue_rows(self.figures, self.queue_variants)
        self.growth()
        try:
            peer.measure(self, volume["requests"])
        except Exception as error:  # noqa: BLE001  (the peer's failure is reported on its rows, the portal's stand)
            self.figures["peer"] = f"blocked: {error}"
        self.rows[:0] = figure_rows.page_rows(self.figures)

    def start_servers(self) -> None:
        self.log("servers: portal (gunicorn), two Celery workers, the hello ceiling, the no-op worker")
        self.web, _ = stack.gunicorn(self.procs, "web", "portal.wsgi", self.env, port=self.web_port)  # its port is in SITE_URL
        self.notifications = stack.celery_worker(self.procs, "notifications", "portal", "notifications", self.env)
        self.periodic = stack.celery_worker(self.procs, "periodic", "portal", "periodic", self.env, concurrency=1)
        self.hello, self.hello_port = stack.gunicorn(self.procs, "hello", "bench.hello.wsgi", self.env)
        self.noop_worker = stack.celery_worker(self.procs, "noop", "bench.noop", "bench_noop", self.env)
        time.sleep(15)  # the workers' start-up CPU out of the way of the first phase

    def show_workers(self) -> None:
        """The two portal workers, each on its own queue, as Celery itself reports them."""
        inspected = subprocess.run(
            [str(stack.BIN / "celery"), "-A", "portal", "inspect", "active_queues", "--json", "--timeout", "10"],
            env=self.env,
            cwd=stack.ROOT,
            capture_output=True,
            text=True,
        )
        queues = inspected.stdout or inspected.stderr
        try:
            found = {worker: [q["name"] for q in qs] for worker, qs in json.loads(queues.strip().splitlines()[-1]).items()}
        except (ValueError, IndexError):
            found = {"?": [queues.strip()[:200]]}
        self.notes.append(
            "Celery workers and their queues (celery inspect active_queues): "
            + "; ".join(f"{w}: {', '.join(q)}" for w, q in sorted(found.items()))
        )

    # --- ceilings ---------------------------------------------------------------------------------------------

    def ceilings(self) -> None:
        self.log("ceiling: the bare hello view")
        pids = lambda: children(self.hello.pid)  # noqa: E731

        async def hello(client, i):
            return [await client.get("/")], 0

        self.phase("hello warm-up", clients_for(self.hello_port, 8, "10.1"), 200, hello, pids)
        for n in (8, 20):
            self.figures[f"hello{n}"] = self.phase(
                f"hello, {n} clients", clients_for(self.hello_port, n, "10.1"), scaled(self, 3000), hello, pids
            )

    # --- the portal's pages -----------------------------------------------------------------------------------

    def captchas(self) -> flows.CaptchaStore:
        return flows.CaptchaStore(self.env["DATABASE_URL"])

    def public_pages(self) -> None:
        self.log("public form GET, filing POST, tracking page")
        captchas = self.captchas()

        async def form(client, i):
            return [await client.get(flows.FORM)], 0

        self.phase("form GET warm-up", clients_for(self.web_port, 8, "10.2"), 100, form)
        for n in (8, 20):
            self.figures[f"form{n}"] = self.phase(
                f"form GET, {n} clients", clients_for(self.web_port, n, "10.2"), scaled(self, 1000), form
            )

        for n, prefix in ((8, 20), (20, 40)):
            delivered = self.sink.delivered

            async def filing(client, i, prefix=prefix):
                # A rate of 5 filings an hour per address (SERVICE_REQUEST_RATE): each filing from an address of its own.
                client.address = f"10.{prefix + i // 62500}.{i // 250 % 250}.{i % 250 + 1}"
                client.cookies.clear()
                page, answer = await flows.file_request(client, captchas, f"bench{prefix}-{i}.example")
                return [answer], 1

            result = self.phase(
                f"filing POST, {n} clients", clients_for(self.web_port, n, "10.3"), scaled(self, 400), filing, ok=(302,)
            )
            filed = result.measured - result.errors
            arrived = self.sink.wait_for(delivered + filed, 120)
            result.emails = self.sink.delivered - delivered
            self.figures[f"filing{n}"] = result
            self.notes.append(
                f"Filing at {n} clients: {filed} filed, {result.emails} confirmation emails at the sink"
                + ("" if arrived else " (not all arrived within 120 s)")
            )
        self.tracking(captchas)
        form_cpu = self.figures["form8"].cpu_ms()
        for n in (8, 20):
            f = self.figures[f"filing{n}"]
            self.figures[f"filing{n}_cpu"] = f.cpu_ms(other_cpu_ms=form_cpu)

    def tracking(self, captchas) -> None:
        """File a request, follow the confirmation link from its email (as the requester does), and land on the
        tracking page with its cookie: the page then measured."""
        email = "claire@bench-tracking.example"
        self.sink.watched.add(email)
        client = Client(port=self.web_port, address="10.9.0.1")
        asyncio.run(flows.file_request(client, captchas, "bench-tracking.example"))
        link = self.link_in_email(email, CONFIRM_LINK)
        opened = asyncio.run(client.get(link))  # the token exchanged for a cookie, then the clean URL
        page = asyncio.run(client.get(opened.header("location") or link.split("?")[0]))
        confirmed = asyncio.run(client.post(link.split("?")[0], {"csrfmiddlewaretoken": flows.csrf_of(page)}))
        path = confirmed.header("location")
        if confirmed.status != 302 or not path:
            raise RuntimeError(f"confirming the email answered {confirmed.status}")
        cookies = self.tracking_cookies = dict(client.cookies)
        self.tracking_path = path

        async def track(c, i):
            c.cookies = dict(cookies)
            return [await c.get(path)], 0

        self.phase("tracking warm-up", clients_for(self.web_port, 8, "10.4"), 50, track)
        self.figures["track"] = self.phase(
            "tracking page, 8 clients", clients_for(self.web_port, 8, "10.4"), scaled(self, 1000), track
        )

    def link_in_email(self, recipient: str, pattern: re.Pattern) -> str:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            match = pattern.search(self.sink.by_recipient.get(recipient, ""))
            if match:
                return match.group(1)
            time.sleep(0.1)
        raise RuntimeError(f"no link for {recipient} arrived at the sink")

    def agent_session(self) -> None:
        self.log("agent: staff account, sign-in through /login/ and the authenticator")
        password = "bench-" + time.strftime("%H%M%S") + "-correct-horse-battery"
        agent = stack.django_side(self.env, "agent", password)
        self.agent = Client(port=self.web_port, address="10.5.0.1")
        asyncio.run(flows.sign_in(self.agent, agent["email"], password, agent["totp_key"]))
        with psycopg.connect(self.env["DATABASE_URL"]) as conn:
            reference, domain = (
                conn.execute("SELECT reference, company_domain FROM tickets_servicerequest ORDER BY id LIMIT 1 OFFSET 500").fetchone()
                or conn.execute("SELECT reference, company_domain FROM tickets_servicerequest ORDER BY id LIMIT 1").fetchone()
            )
        self.queue_variants = {
            "default": QUEUE,
            "filter": QUEUE + "?status__exact=new",
            "search by domain": QUEUE + f"?q={domain}",
            "search by reference": QUEUE + f"?q={reference}",
        }

    def queue_pages(self, size: str) -> None:
        self.log(f"agent queue pages at {size}")
        for variant, path in self.queue_variants.items():

            async def page(client, i, path=path):
                return [await client.get(path)], 0

            clients = [Client(port=self.web_port, address="10.5.0.1", cookies=dict(self.agent.cookies)) for _ in range(2)]
            self.phase(f"queue {variant} warm-up, {size}", clients, 4, page)
            self.figures[f"queue {variant} {size}"] = self.phase(f"queue {variant}, {size}", clients, scaled(self, 60, 20), page)
        self.figures[f"queries {size}"] = stack.django_side(self.env, "queries", *self.queue_variants.values())

    # --- background work --------------------------------------------------------------------------------------

    def background(self) -> None:
        self.log("delivery: the no-op task, then the outbox; approvals")
        n = scaled(self, 10_000, 100)
        self.env_noop_publish(100)
        noop = self.env_noop_publish(n)
        pool = children(self.notifications.pid)
        self.outbox(scaled(self, 500, 50))  # warm-up
        rss_before = sum(rss_mb(children(self.notifications.pid)))
        cpu_before = cpu_seconds(pool)
        emails_per_s, seconds = self.outbox(n)
        celery_cpu = (cpu_seconds(pool) - cpu_before) * 1000 / n
        rss_after = sum(rss_mb(children(self.notifications.pid)))
        ratio = emails_per_s / noop if noop else float("nan")
        self.rows.append(
            Row(
                "outbox delivery (emails/s)",
                f"{emails_per_s:.0f}/s ({n:,} emails, {celery_cpu:.1f} ms worker CPU each)",
                f"no-op task {noop:.0f}/s",
                f"{ratio:.2f}×",
                "≥ 0.5× no-op",
                verdict(ratio >= 0.5),
            )
        )
        growth = rss_after / rss_before if rss_before else float("nan")
        self.rows.append(
            Row(
                f"Celery worker RSS after {n:,} emails",
                f"{rss_before:.0f} → {rss_after:.0f} MB",
                "—",
                f"{growth:.2f}×",
                "flat (≤ 1.10×)",
                verdict(growth <= 1.10),
            )
        )
        subprocess.run(
            [str(stack.BIN / "celery"), "-A", "portal", "call", "notifications.tasks.outbox_resend_pending"],
            env=self.env,
            cwd=stack.ROOT,
            check=True,
            capture_output=True,
        )
        self.approvals(scaled(self, 50, 10))

    def env_noop_publish(self, n: int) -> float:
        """``n`` no-op tasks published, and the rate at which the worker got through them (tasks/s)."""
        from . import noop

        broker = redis.Redis.from_url(self.env["CELERY_BROKER_URL"])
        broker.set(noop.COUNTER, 0)
        start = time.perf_counter()
        with noop.app.producer_or_acquire() as producer:
            for _ in range(n):
                noop.noop.apply_async(producer=producer)
        while int(broker.get(noop.COUNTER) or 0) < n:
            if time.perf_counter() - start > 600:
                raise RuntimeError("the no-op worker did not finish")
            time.sleep(0.02)
        return n / (time.perf_counter() - start)

    def outbox(self, n: int) -> tuple[float, float]:
        result = stack.django_side(self.env, "outbox", str(n))
        ids = [f"<outbox-{i}@127.0.0.1>" for i in result["ids"]]
        deadline = time.time() + 900
        while time.time() < deadline:
            arrived = [self.sink.arrival(i) for i in ids]
            if all(arrived):
                break
            time.sleep(0.2)
        else:
            raise RuntimeError(f"outbox: {sum(1 for a in arrived if a)} of {n} emails arrived")
        seconds = max(arrived) - result["started"]
        return n / seconds, seconds

    def approvals(self, n: int) -> None:
        result = stack.django_side(self.env, "approvals", str(n))
        latencies = []
        for approval in result["approvals"]:
            ids = [f"<outbox-{i}@127.0.0.1>" for i in approval["ids"]]
            deadline = time.time() + 60
            while time.time() < deadline and not all(self.sink.arrival(i) for i in ids):
                time.sleep(0.02)
            if ids and all(self.sink.arrival(i) for i in ids):
                latencies.append(max(self.sink.arrival(i) for i in ids) - approval["committed"])
        latencies.sort()
        p95 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.95))] * 1000 if latencies else float("nan")
        self.rows.append(
            Row(
                "approval → email in the sink, p95",
                f"{p95:.0f} ms ({len(latencies)} of {n} approvals)",
                "—",
                "—",
                "< 2 s",
                verdict(p95 < 2000 and len(latencies) == n),
            )
        )

    # --- memory -----------------------------------------------------------------------------------------------

    def memory(self) -> None:
        self.log("web worker RSS over 10,000 requests")

        async def mix(client, i):
            # The requester's pages: nine tracking pages for each form (the form's CPU would take most of the budget).
            client.cookies = dict(self.tracking_cookies)
            return [await client.get(flows.FORM if i % 10 == 0 else self.tracking_path)], 0

        n = scaled(self, 10_000, 200)
        self.phase("memory warm-up", clients_for(self.web_port, 8, "10.6"), 500, mix)
        before = rss_mb(self.web_pids())
        self.phase(f"memory: {n:,} requests (tracking page, form)", clients_for(self.web_port, 8, "10.6"), n, mix)
        after = rss_mb(self.web_pids())
        growth = sum(after) / sum(before)
        self.rows.append(
            Row(
                f"gunicorn worker RSS after {n:,} requests",
                " / ".join(f"{b:.0f} → {a:.0f} MB" for b, a in zip(before, after, strict=False)),
                "—",
                f"{growth:.2f}×",
                "flat (≤ 1.10×)",
                verdict(growth <= 1.10),
            )
        )

    def growth(self) -> None:
        """bench/growth.py's figures (its own database, 100k then 1M rows), when it is there."""
        self.log("growth: the outbox re-dispatch and the audit walks at 1,000,000 rows")
        env = dict(self.env)
        if self.data_scale != 1:
            env["GROWTH_ROWS"] = f"{int(100_000 * self.data_scale)},{int(1_000_000 * self.data_scale)}"
        try:
            result = stack.django_side(env, "growth")
        except subprocess.CalledProcessError as error:
            reason = error.stderr.strip().splitlines()[-1] if error.stderr else str(error)
            self.rows.append(Row("growth at 1,000,000 rows", f"not measured: {reason}", verdict="blocked"))
            return
        if result.get("absent"):
            self.rows.append(Row("growth at 1,000,000 rows", "not measured: bench/growth.py is absent", verdict="blocked"))
            return
        for row in result["rows"]:
            ratio = row.get("ratio", "—")
            self.rows.append(
                Row(
                    str(row.get("figure", "growth")),
                    str(row.get("ours", "")),
                    str(row.get("reference", "—")),
                    f"{ratio}×" if isinstance(ratio, int | float) else str(ratio),
                    str(row.get("target", "bounded memory, linear time")),
                    verdict(row["met"]) if isinstance(row.get("met"), bool) else str(row.get("met", "—")),
                )
            )


def scaled(scenarios: Scenarios, n: int, minimum: int = 50) -> int:
    return max(minimum, int(n * scenarios.scale))
