"""Comparing answer times as an attacker would: the median of paired differences, in milliseconds."""

import math
import statistics

LIMIT_MS = 5


def assert_same_time(differences: list[float], what: str) -> None:
    """``differences``: seconds, one per pair of tries run back to back (so that both met the same load).

    Passes when their median is under 5 ms. On a machine so busy that its own noise cannot resolve 5 ms
    (the median's standard error, from the median absolute deviation, above a third of it), the bound is
    three standard errors instead, and the message gives both: a real leak (before: 480 ms at /login/,
    6 to 8 ms on the reset's code page) still fails on a quiet machine, and a busy one does not fail for
    its neighbours' sake.
    """
    ms = [d * 1000 for d in differences]
    median = statistics.median(ms)
    spread = statistics.median(abs(d - median) for d in ms) * 1.4826  # the MAD, as a standard deviation
    uncertainty = 1.2533 * spread / math.sqrt(len(ms))  # the standard error of a median
    bound = max(LIMIT_MS, 3 * uncertainty)
    assert abs(median) < bound, (
        f"{what}: {median:.1f} ms later (median of {len(ms)} pairs; its standard error {uncertainty:.1f} ms, bound {bound:.1f} ms)"
    )
