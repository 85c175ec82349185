"""Latency statistics shared by the benchmarks (plain Python: runs in either venv)."""
from __future__ import annotations


def percentile(values: list[float], q: float) -> float:
    """The nearest-rank q-quantile (q in 0..1) of the measured values."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]
