"""Fixtures: a standalone WeCom simulator (API-level tests) and the whole stack in WeCom mode."""
from __future__ import annotations

from typing import Iterator

import pytest

from devtools.stack import Stack, free_port
from tests.support.wecom import Simulator


@pytest.fixture(scope="module")
def simulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Simulator]:
    # Clicks are played towards a callback URL where nothing listens: only the API side matters here.
    running = Simulator(tmp_path_factory.mktemp("sim"), callback_url=f"http://127.0.0.1:{free_port()}/callback")
    yield running
    running.stop()


@pytest.fixture(scope="session")
def wecom_stack(stack: Stack) -> Stack:
    """The run's stack (tests/conftest.py), in WeCom mode; the name says what these tests use of it."""
    return stack
