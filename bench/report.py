"""The results: a table on stdout and in bench/results.md, with the machine they were measured on."""

import datetime
import os
import platform
import subprocess
from dataclasses import dataclass
from pathlib import Path

import psycopg


@dataclass
class Row:
    figure: str
    ours: str
    reference: str = "—"
    ratio: str = "—"
    target: str = "—"
    verdict: str = "—"  # met, missed, blocked or "—" (information only)


def verdict(ok: bool | None) -> str:
    return "—" if ok is None else ("met" if ok else "missed")


def machine(pg_dsn: str) -> list[str]:
    cpu = next(
        (line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("model name")),
        "?",
    )
    mem_kb = int(next(line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal")))
    with psycopg.connect(pg_dsn) as conn:
        pg = conn.execute("SHOW server_version").fetchone()[0]
    redis = subprocess.run(["redis-cli", "-h", "127.0.0.1", "INFO", "server"], capture_output=True, text=True).stdout
    redis_version = next((line.split(":", 1)[1].strip() for line in redis.splitlines() if line.startswith("redis_version")), "?")
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    return [
        f"- CPU: {cpu}, {os.cpu_count()} cores; RAM {mem_kb / 2**20:.1f} GiB; load average at the end {os.getloadavg()[0]:.2f}",
        f"- Python {platform.python_version()}, PostgreSQL {pg}, Redis {redis_version}; {platform.platform()}",
        f"- Date: {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC; commit {commit or '?'}",
    ]


def table(rows: list[Row]) -> str:
    lines = ["| figure | ours | ceiling or peer | ratio | target | result |", "|---|---|---|---|---|---|"]
    lines += [f"| {r.figure} | {r.ours} | {r.reference} | {r.ratio} | {r.target} | {r.verdict} |" for r in rows]
    return "\n".join(lines)


def write(path: Path, rows: list[Row], machine_lines: list[str], notes: list[str], phases: str, seconds: float) -> str:
    text = "\n".join(
        [
            "# Benchmark results (`make bench`)",
            "",
            "Written by bench/run.py. Each figure is measured in the same run as its ceiling or peer; web CPU per",
            "request is utime + stime of the gunicorn workers (/proc/<pid>/stat) over the phase, divided by its requests.",
            "",
            table(rows),
            "",
            "## Machine",
            *machine_lines,
            f"- Whole run: {seconds / 60:.1f} min",
            "",
            "## How it was measured",
            *[f"- {n}" for n in notes],
            "",
            "## Phases",
            "",
            phases,
            "",
        ]
    )
    path.write_text(text)
    return text
