"""Both endpoint files, read by Rasa's own code: the action server's token goes as a header, and
the development tracker store is the SQLite file the environment names (each stack its own).
Production's PostgreSQL store: tests/deploy/test_rasa_production_endpoints.py and the pruning tests."""
from __future__ import annotations

import asyncio
import uuid
import warnings
from contextlib import contextmanager
from typing import Iterator

import pytest

from devtools.stack import ROOT

TOKEN = "t" * 40


@contextmanager
def rasa_quietly() -> Iterator[None]:
    """Rasa's own code warns about its old libraries (SQLAlchemy 1.4, pykwalify): not ours to fix."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def endpoint(path: str, name: str):
    from rasa.utils.endpoints import read_endpoint_config

    with rasa_quietly():
        return read_endpoint_config(str(ROOT / path), name)


def round_trip(config) -> None:
    """A conversation saved through the store the file configures comes back from a second one."""
    with rasa_quietly():
        from rasa.core.tracker_store import TrackerStore
        from rasa.shared.core.domain import Domain
        from rasa.shared.core.events import UserUttered
        from rasa.shared.core.trackers import DialogueStateTracker

        sender = f"web:test-{uuid.uuid4().hex[:8]}"
        tracker = DialogueStateTracker(sender, [])
        tracker.update(UserUttered("我要盖章"))
        asyncio.run(TrackerStore.create(config, Domain.empty()).save(tracker))
        again = asyncio.run(TrackerStore.create(config, Domain.empty()).retrieve(sender))
    assert again is not None and again.latest_message.text == "我要盖章"


@pytest.mark.parametrize("path", ["bot/endpoints.yml", "deploy/endpoints.yml"])
def test_the_action_server_token_is_a_header_not_a_url_parameter(path, monkeypatch):
    monkeypatch.setenv("ACTION_SERVER_PORT", "5055")
    monkeypatch.setenv("ACTION_SERVER_TOKEN", TOKEN)
    for name in ("RASA_TRACKER_DB", "RASA_TRACKER_DB_HOST", "RASA_TRACKER_DB_PORT", "RASA_TRACKER_DB_USER",
                 "RASA_TRACKER_DB_PASSWORD"):
        monkeypatch.setenv(name, "5432")
    action = endpoint(path, "action_endpoint")
    assert action.headers == {"Authorization": f"Bearer {TOKEN}"}
    assert action.token is None and not action.params and "token" not in action.url


def test_the_development_store_is_the_sqlite_file_named_by_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("RASA_TRACKER_DB", str(tmp_path / "trackers.db"))
    monkeypatch.setenv("ACTION_SERVER_PORT", "5055")
    monkeypatch.setenv("ACTION_SERVER_TOKEN", TOKEN)
    round_trip(endpoint("bot/endpoints.yml", "tracker_store"))
    assert (tmp_path / "trackers.db").stat().st_size > 0
