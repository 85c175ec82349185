"""Run-wide test set-up (every suite, both venvs)."""
from __future__ import annotations

import importlib.util


def pytest_sessionstart(session) -> None:
    """Import Sanic (Rasa's venv) before pytest's warning capture starts, not during collection.

    Sanic's import calls ``warnings.filterwarnings("once", DeprecationWarning)``. Inside pytest's
    per-phase capture that filter would stand in front of pytest.ini's ``filterwarnings`` for the
    rest of the phase, so third-party import warnings filled the summary and our own were not
    errors. Imported here, it stays behind them: pytest.ini decides.
    """
    if importlib.util.find_spec("sanic") is not None:
        import sanic  # noqa: F401
