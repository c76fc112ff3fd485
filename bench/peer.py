"""The peer: django-helpdesk in a venv of its own under var/bench/, on the same PostgreSQL with as many
tickets as the portal has requests, under gunicorn with 2 sync workers, measured in the same run."""

import os
import re
import subprocess
from typing import TYPE_CHECKING

from . import stack
from .flows import csrf_of
from .load import clients_for
from .procs import children, free_port, wait_for_workers

if TYPE_CHECKING:
    from .scenarios import Scenarios

PIN = "django-helpdesk==2.6.1"  # its own Django (5.2), installed beside gunicorn and psycopg
VENV = stack.VAR / "helpdesk-venv"
FORM = "/tickets/submit/"


def ensure_venv() -> None:
    python = VENV / "bin" / "python"
    if python.exists():
        shown = subprocess.run([str(python), "-m", "pip", "show", "django-helpdesk"], capture_output=True, text=True).stdout
        if f"Version: {PIN.split('==')[1]}" in shown:
            return
    subprocess.run(["python3", "-m", "venv", "--clear", str(VENV)], check=True)
    subprocess.run(
        [str(python), "-m", "pip", "install", "-q", PIN, "gunicorn", "psycopg[binary]"], check=True, capture_output=True, text=True
    )


def measure(bench: "Scenarios", tickets: int) -> None:
    bench.log(f"peer: {PIN} with {tickets:,} tickets")
    try:
        ensure_venv()
    except subprocess.CalledProcessError as error:
        reason = (error.stderr or str(error)).strip().splitlines()[-1]
        bench.figures["peer"] = f"blocked: pip install {PIN} failed ({reason})"
        return
    stack.recreate_database(stack.PEER_DB)
    env_dir = stack.VAR / "helpdesk"
    env_dir.mkdir(exist_ok=True)
    port = free_port()
    env = {
        "PATH": os.environ.get("PATH", ""),
        "PEER_SECRET_KEY": "peer-" + os.urandom(16).hex(),
        "PEER_DB_NAME": stack.PEER_DB,
        "PEER_VAR_DIR": str(env_dir),
        "PEER_EMAIL_PORT": str(bench.sink.controller.port),
        "PEER_PORT": str(port),
        "PYTHONPATH": str(stack.ROOT),
    }
    load = subprocess.run(
        [str(VENV / "bin" / "python"), "-m", "bench.helpdesk_peer.load", str(tickets)],
        cwd=stack.ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    if load.returncode:
        bench.figures["peer"] = f"blocked: the peer's set-up failed ({load.stderr.strip().splitlines()[-1]})"
        return
    queue = load.stdout.strip().splitlines()[-1]
    args = [
        str(VENV / "bin" / "gunicorn"),
        "--workers",
        "2",
        "--worker-class",
        "sync",
        "--bind",
        f"127.0.0.1:{port}",
        "bench.helpdesk_peer.wsgi",
    ]
    # Not from the repository's root, where gunicorn would read the portal's gunicorn.conf.py.
    proc = bench.procs.start("helpdesk", args, env, env_dir)
    stack.wait_for_port(port, proc)
    wait_for_workers(proc, 2)
    pids = lambda: children(proc.pid)  # noqa: E731

    async def form(client, i):
        return [await client.get(FORM)], 0

    async def post(client, i):
        page = await client.get(FORM)
        data = {
            "csrfmiddlewaretoken": csrf_of(page),
            "queue": queue,
            "title": f"Our admin left ({i})",
            "priority": "3",
            "body": "Nobody can manage our users since Marc left.",
            "submitter_email": f"claire@peer{i}.example",
            "due_date": "",
        }
        return [await client.post(FORM, data)], 1

    bench.phase("peer form GET warm-up", clients_for(port, 8, "10.7"), 100, form, pids)
    for n in (8, 20):
        bench.figures[f"peer form{n}"] = bench.phase(
            f"peer form GET, {n} clients", clients_for(port, n, "10.7"), scaled(bench, 1000), form, pids
        )
    for n in (8, 20):
        delivered = bench.sink.delivered
        result = bench.phase(f"peer filing POST, {n} clients", clients_for(port, n, "10.8"), scaled(bench, 400), post, pids, ok=(302,))
        result.emails = bench.sink.delivered - delivered
        bench.figures[f"peer filing{n}"] = result
        bench.notes.append(f"Peer filing at {n} clients: {result.measured - result.errors} filed, {result.emails} emails at the sink")
        bench.figures[f"peer filing{n}_cpu"] = result.cpu_ms(other_cpu_ms=bench.figures["peer form8"].cpu_ms())
    bench.procs.stop(proc)
    bench.notes.append(
        f"Peer: {PIN} (Django {peer_django()}), public form {FORM}, {tickets:,} tickets bulk-inserted; "
        "its gunicorn has no access log (ours writes one JSON line a request); it sends its email inside the request."
    )


def peer_django() -> str:
    shown = subprocess.run([str(VENV / "bin" / "python"), "-m", "pip", "show", "django"], capture_output=True, text=True).stdout
    match = re.search(r"Version: (\S+)", shown)
    return match.group(1) if match else "?"


def scaled(bench: "Scenarios", n: int) -> int:
    return max(50, int(n * bench.scale))
