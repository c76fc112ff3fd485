"""``make bench``: the portal under load beside its ceilings and its peer, measured in one run.

Plain Python, not pytest: it prints its table and writes bench/results.md. Everything it starts is stopped
at the end, also on an error or Ctrl-C. ``BENCH_SCALE`` (default 1) shrinks the request counts and, unless
``BENCH_DATA_SCALE`` is given, the data volumes, on a busy machine.
"""

import os
import sys
import time
import traceback

from . import stack
from .load import Phase
from .procs import Processes, free_port
from .report import Row, machine, write
from .scenarios import Scenarios
from .sink import Sink

# On a busy machine: BENCH_SCALE shrinks the request counts, and the data volumes unless BENCH_DATA_SCALE is given.
SCALE = float(os.environ.get("BENCH_SCALE", "1"))
DATA_SCALE = float(os.environ.get("BENCH_DATA_SCALE", SCALE))


def scaled(n: int, minimum: int = 1) -> int:
    return max(minimum, int(n * DATA_SCALE))


# The volumes: 10,000 tenants, 100,000 users, 100,000 service requests (the first 1% loaded first).
VOLUME = {"tenants": scaled(10_000, 10), "users": scaled(100_000, 100), "requests": scaled(100_000, 100)}
SMALL = {k: max(1, v // 100) for k, v in VOLUME.items()}
SMALL["requests"] = max(SMALL["requests"], min(1000, VOLUME["requests"]))


def generate(env: dict, counts: dict) -> float:
    start = time.perf_counter()
    stack.manage(
        env,
        "generate_bench_data",
        "--tenants",
        str(counts["tenants"]),
        "--users",
        str(counts["users"]),
        "--requests",
        str(counts["requests"]),
    )
    return time.perf_counter() - start


def main() -> int:
    started = time.perf_counter()
    stack.VAR.mkdir(parents=True, exist_ok=True)
    (stack.VAR / "logs").mkdir(exist_ok=True)
    procs = Processes(stack.VAR / "logs")
    sink = Sink(free_port())
    rows: list[Row] = []
    notes: list[str] = []
    failed = False
    phases: list[Phase] = []
    try:
        sink.start()
        web_port = free_port()
        env = stack.portal_env(sink.controller.port, web_port)
        scenarios = Scenarios(env=env, procs=procs, sink=sink, web_port=web_port, rows=rows, notes=notes, phases=phases)
        scenarios.run(generate, SMALL, VOLUME, SCALE, DATA_SCALE)
    except KeyboardInterrupt:
        print("interrupted: stopping everything the bench started", file=sys.stderr)
        return 130
    except Exception:  # noqa: BLE001  (whatever failed, the figures measured so far are written)
        traceback.print_exc()
        failed = True
        notes.append("The run stopped on an error (traceback on stderr): the figures above are those measured before it.")
    finally:
        procs.stop_all()
        sink.stop()
    seconds = time.perf_counter() - started
    text = write(
        stack.ROOT / "bench" / "results.md",
        rows,
        machine(f"{stack.PG}/postgres"),
        notes,
        phase_table(phases),
        seconds,
    )
    print(text)
    return 1 if failed else 0


def phase_table(phases: list[Phase]) -> str:
    lines = ["| phase | clients | requests | errors | req/s | p50 ms | p95 ms | web CPU s |", "|---|---|---|---|---|---|---|---|"]
    for p in phases:
        lines.append(
            f"| {p.name} | {p.clients} | {p.measured} (+{p.other}) | {p.errors} | {p.rps:.1f} | {p.p50_ms:.1f} | {p.p95_ms:.1f}"
            f" | {p.cpu_seconds:.2f} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
