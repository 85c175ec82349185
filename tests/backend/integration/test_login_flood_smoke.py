"""The login-flood benchmark still runs end to end (a tiny flood; no timing is asserted)."""
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.processes  # starts processes of ours: make test, not make test-fast

ROOT = Path(__file__).resolve().parents[3]


def test_the_login_flood_benchmark_runs(tmp_path):
    results = tmp_path / "login_flood.md"
    run = subprocess.run([sys.executable, "-m", "bench.login_flood", "--rate", "5", "--seconds", "2",
                          "--quiet-seconds", "1", "--results", str(results)],
                         cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    table = results.read_text(encoding="utf-8")
    assert "| during 5 logins/s |" in table and "Logins answered — 200:" in table
