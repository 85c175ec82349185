"""Latency statistics and result tables shared by the benchmarks (plain Python: runs in either venv)."""
from __future__ import annotations

from pathlib import Path


def percentile(values: list[float], q: float) -> float:
    """The nearest-rank q-quantile (q in 0..1) of the measured values."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def report(path: Path, table: str, say=print) -> None:
    """Keep a benchmark's result table in ``path`` and show it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(table + "\n", encoding="utf-8")
    say("\n" + table)
