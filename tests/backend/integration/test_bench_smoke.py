"""The benchmark still runs end to end (tiny sizes; no timing is asserted here)."""
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.processes  # starts processes of ours: make test, not make test-fast

ROOT = Path(__file__).resolve().parents[3]


def test_backend_benchmark_runs_on_a_small_database(tmp_path):
    results = tmp_path / "backend.md"
    run = subprocess.run(
        [sys.executable, "-m", "bench.backend_bench", "--backends", "sqlite", "--applications", "300",
         "--approvals", "30", "--requests", "5", "--clients", "5", "--server-workers", "1",
         "--results", str(results)],
        cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    table = results.read_text(encoding="utf-8")
    assert "| sqlite |" in table and "approvals/s" in table
    assert "30 approvals by 5 clients" in run.stdout
