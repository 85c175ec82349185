"""Run-wide test set-up (every suite, both venvs)."""
from __future__ import annotations

import importlib.util
from typing import Iterator

import pytest

from devtools.stack import Stack


def pytest_sessionstart(session) -> None:
    """Import Sanic (Rasa's venv) before pytest's warning capture starts, not during collection.

    Sanic's import calls ``warnings.filterwarnings("once", DeprecationWarning)``. Inside pytest's
    per-phase capture that filter would stand in front of pytest.ini's ``filterwarnings`` for the
    rest of the phase, so third-party import warnings filled the summary and our own were not
    errors. Imported here, it stays behind them: pytest.ini decides.
    """
    if importlib.util.find_spec("sanic") is not None:
        import sanic  # noqa: F401


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """The whole system, booted once per test run for every suite that talks to it (tests/bot,
    tests/wecom, tests/web): Rasa's model load is most of a boot. WeCom mode (the simulator behind
    the gateway) so the WeCom suite can use it too; no notifier, so only replies reach users
    (the tests about notifications run one for their time)."""
    running = Stack(tmp_path_factory.mktemp("stack"), wecom=True)
    if not running.model.exists():
        pytest.fail(f"no trained model at {running.model}: run `make train` first")
    try:
        yield running.up()
    finally:
        running.down()
