"""devtools/stack.py: a stack whose start fails leaves no process behind (tests and benchmarks
would otherwise keep a backend, an action server or a Rasa of 1 GB running after they ended)."""
from __future__ import annotations

import pytest

from devtools.stack import Stack


def test_a_failed_start_stops_what_had_started(tmp_path):
    stack = Stack(tmp_path)
    stack.env["ACTION_SERVER_TOKEN"] = "too-short"  # the action server refuses to start
    with pytest.raises(RuntimeError, match="exited early"):
        stack.up()
    assert stack.names == ["backend", "actions"]  # the backend was up when the action server failed
    assert all(process.poll() is not None for process, _ in stack.processes)
