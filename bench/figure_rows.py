"""The result rows of the pages and the queue, from the figures a run measured (bench/scenarios.py)."""

from .report import Row, verdict


def page_rows(f: dict) -> list[Row]:
    """The public pages' rows: form GET, filing POST and tracking, against hello and the peer."""
    peer_blocked = f.get("peer") if isinstance(f.get("peer"), str) else None
    hello, form = f["hello8"], f["form8"]
    rows = []
    ours = form.cpu_ms()
    vs_hello = hello.cpu_ms() / ours
    reference = f"hello {hello.cpu_ms():.2f} ms ({hello.rps:.0f}/s)"
    ratio = f"{vs_hello:.2f}× hello"
    ok = ours <= 3 and vs_hello >= 0.2
    if peer_blocked:
        reference += f"; django-helpdesk {peer_blocked}"
    else:
        peer_form = f["peer form8"]
        vs_peer = peer_form.cpu_ms() / ours
        reference += f"; django-helpdesk {peer_form.cpu_ms():.1f} ms ({peer_form.rps:.0f}/s)"
        ratio += f"; {vs_peer:.2f}× django-helpdesk"
        ok = ok and vs_peer >= 3
    rows.append(
        Row(
            "public form GET: web CPU per request (req/s at 8 clients)",
            f"{ours:.1f} ms ({form.rps:.0f}/s; p95 {form.p95_ms:.0f} ms)",
            reference,
            ratio,
            "≤ 3 ms; ≥ 0.2× hello; ≥ 3× django-helpdesk",
            verdict(ok),
        )
    )
    post_cpu, post20 = f["filing8_cpu"], f["filing20"]
    ok = post_cpu <= 6 and post20.p95_ms < 150
    reference, ratio = "—", "—"
    if peer_blocked:
        reference = f"django-helpdesk {peer_blocked}"
    else:
        peer20 = f["peer filing20"]
        reference = f"django-helpdesk {f['peer filing8_cpu']:.1f} ms; {peer20.rps:.1f} filings/s at 20 clients"
        ratio = f"{post20.rps / peer20.rps:.2f}× django-helpdesk's throughput"
        ok = ok and post20.rps >= 2 * peer20.rps
    rows.append(
        Row(
            "filing POST: web CPU per request (filings/s and p95 at 20 clients)",
            f"{post_cpu:.1f} ms ({post20.rps:.1f}/s; p95 {post20.p95_ms:.0f} ms)",
            reference,
            ratio,
            "≤ 6 ms; ≥ 2× django-helpdesk's throughput at 20 clients; p95 < 150 ms at 20 clients",
            verdict(ok),
        )
    )
    track = f["track"]
    rows.append(
        Row(
            "tracking page: web CPU per request",
            f"{track.cpu_ms():.1f} ms ({track.rps:.0f}/s)",
            f"hello {hello.cpu_ms():.2f} ms",
            f"{hello.cpu_ms() / track.cpu_ms():.2f}× hello",
            "≤ 3 ms",
            verdict(track.cpu_ms() <= 3),
        )
    )
    return rows


def queue_rows(figures: dict, variants: dict[str, str]) -> list[Row]:
    """Web CPU per page (≤ 15 ms), and the time a page takes (p50, which includes PostgreSQL's share) at 100k
    against 1k."""
    rows = []
    for variant, path in variants.items():
        small, large = figures[f"queue {variant} 1k"], figures[f"queue {variant} 100k"]
        q_small, q_large = figures["queries 1k"][path]["queries"], figures["queries 100k"][path]["queries"]
        growth = large.p50_ms / small.p50_ms
        rows.append(
            Row(
                f"agent queue, {variant}: web CPU per page and p50 time at 100k (1k)",
                f"{large.cpu_ms():.1f} ms ({small.cpu_ms():.1f} ms); p50 {large.p50_ms:.0f} ms ({small.p50_ms:.0f} ms);"
                f" {q_large} queries ({q_small})",
                "itself at 1k",
                f"{growth:.2f}× the time",
                "≤ 15 ms CPU; ≤ 1.3× the time at 100k; same query count",
                verdict(large.cpu_ms() <= 15 and growth <= 1.3 and q_large == q_small),
            )
        )
    return rows
