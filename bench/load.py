"""Load phases: N clients share a fixed number of operations, then stop. Latency, throughput and the web
workers' CPU time (from /proc) over the phase."""

import asyncio
import itertools
import statistics
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from .client import Client, Response
from .procs import cpu_seconds

# One operation: the measured responses, and how many other requests it made (a form GET before its POST).
Operation = Callable[[Client, int], Awaitable[tuple[list[Response], int]]]


@dataclass
class Phase:
    name: str
    clients: int
    measured: int
    other: int
    errors: int
    seconds: float
    cpu_seconds: float
    latencies: list[float]
    emails: int = 0  # the emails that reached the sink for this phase's requests, where it counts them

    @property
    def rps(self) -> float:
        return self.measured / self.seconds if self.seconds else 0.0

    @property
    def p50_ms(self) -> float:
        return statistics.median(self.latencies) * 1000 if self.latencies else float("nan")

    @property
    def p95_ms(self) -> float:
        if len(self.latencies) < 2:
            return self.p50_ms
        return statistics.quantiles(self.latencies, n=20)[18] * 1000

    def cpu_ms(self, other_cpu_ms: float = 0.0) -> float:
        """Web CPU per measured request; the other requests' share (``other_cpu_ms`` each) taken out."""
        if not self.measured:
            return float("nan")
        return (self.cpu_seconds * 1000 - self.other * other_cpu_ms) / self.measured


def run_phase(name: str, clients: list[Client], total: int, operation: Operation, pids: Callable[[], list[int]], ok=(200,)) -> Phase:
    """Run ``total`` operations spread over ``clients`` (each runs one at a time), then stop."""
    counter = itertools.count()
    latencies: list[float] = []
    counts = {"measured": 0, "other": 0, "errors": 0}
    statuses: set[int] = set()

    async def drive(client: Client) -> None:
        while (i := next(counter)) < total:
            measured, other = await operation(client, i)
            counts["other"] += other
            for response in measured:
                counts["measured"] += 1
                latencies.append(response.seconds)
                if response.status not in ok:
                    counts["errors"] += 1
                    statuses.add(response.status)

    async def main() -> None:
        await asyncio.gather(*(drive(c) for c in clients))

    workers = pids()
    if not workers:
        raise RuntimeError(f"{name}: no web worker to measure")
    cpu_before = cpu_seconds(workers)
    start = time.perf_counter()
    asyncio.run(main())
    seconds = time.perf_counter() - start
    cpu = cpu_seconds(workers) - cpu_before
    if counts["measured"] and counts["errors"] == counts["measured"]:
        raise RuntimeError(f"{name}: every request failed (HTTP {statuses})")
    if set(pids()) != set(workers):
        raise RuntimeError(f"{name}: the web workers changed during the phase (a worker restarted): CPU not comparable")
    return Phase(name, len(clients), counts["measured"], counts["other"], counts["errors"], seconds, cpu, latencies)


def clients_for(port: int, count: int, prefix: str) -> list[Client]:
    """``count`` browsers, each with its own cookie jar and address (``prefix`` is the first two octets)."""
    return [Client(port=port, address=f"{prefix}.{i // 250}.{i % 250 + 1}") for i in range(count)]
