"""`python -m bot.prune_trackers`: conversations idle longer than N days are deleted from Rasa's
SQL tracker store, every event of them; conversations still in use keep all their history.
Trackers are written by Rasa's own SQLTrackerStore, on SQLite and on PostgreSQL."""
from __future__ import annotations

import asyncio
import os
import subprocess
import time
import warnings
from pathlib import Path
from typing import Iterator

import pytest

from devtools.stack import RASA_BIN, ROOT

from tests.support.postgres import fresh_database, rasa_env

DAY = 86400
NOW = time.time()


def store_for(endpoint: dict):
    with warnings.catch_warnings():  # Rasa's SQLAlchemy 1.4 models warn about 2.0 on import
        warnings.simplefilter("ignore")
        from rasa.core.tracker_store import SQLTrackerStore
        from rasa.shared.core.domain import Domain

        return SQLTrackerStore(Domain.empty(), **endpoint)


def save(store, sender: str, days_ago: list[float]) -> None:
    """A conversation whose user said something at each of ``days_ago``."""
    from rasa.shared.core.events import UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    tracker = DialogueStateTracker(sender, [])
    for n, ago in enumerate(days_ago):
        tracker.update(UserUttered(f"第{n}句", timestamp=NOW - ago * DAY))
    asyncio.run(store.save(tracker))


def event_counts(store) -> dict[str, int]:
    with store.session_scope() as session:
        rows = session.query(store.SQLEvent.sender_id).all()
    counts: dict[str, int] = {}
    for (sender,) in rows:
        counts[sender] = counts.get(sender, 0) + 1
    return counts


def prune(endpoints: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([str(RASA_BIN / "python"), "-m", "bot.prune_trackers", "--endpoints", str(endpoints), *args],
                          cwd=ROOT, capture_output=True, text=True, timeout=120, env={**os.environ, **(env or {})})


def endpoints_file(tmp_path: Path, lines: list[str]) -> Path:
    path = tmp_path / "endpoints.yml"
    path.write_text("tracker_store:\n" + "".join(f"  {line}\n" for line in lines))
    return path


@pytest.fixture(params=["sqlite", "postgresql"])
def tracker_db(request, tmp_path) -> Iterator[tuple[object, Path, dict[str, str]]]:
    """Rasa's store on a fresh database, the real endpoints file naming it (development: SQLite,
    production: PostgreSQL), and the environment that file reads."""
    actions = {"ACTION_SERVER_PORT": "5055", "ACTION_SERVER_TOKEN": "t" * 40}
    if request.param == "sqlite":
        db = tmp_path / "trackers.db"
        yield store_for({"dialect": "sqlite", "db": str(db)}), ROOT / "bot/endpoints.yml", {
            **actions, "RASA_TRACKER_DB": str(db)}
        return
    with fresh_database() as url:
        store = store_for({"dialect": "postgresql", "host": url.host, "port": url.port, "db": url.database,
                           "username": url.username, "password": url.password})
        try:
            yield store, ROOT / "deploy/endpoints.yml", {**actions, **rasa_env(url)}
        finally:
            store.engine.dispose()


def test_conversations_idle_longer_than_the_limit_are_deleted_whole(tracker_db):
    store, endpoints, env = tracker_db
    save(store, "web:gone", [200, 120, 95])  # idle 95 days
    save(store, "wecom:recent", [3])
    save(store, "web:old-but-active", [400, 300, 1])  # old sessions, but used yesterday
    before = event_counts(store)

    dry = prune(endpoints, "--older-than-days", "90", "--dry-run", env=env)
    assert dry.returncode == 0, dry.stderr
    assert "would delete 3 events of 1 conversations" in dry.stdout
    assert event_counts(store) == before

    done = prune(endpoints, "--older-than-days", "90", env=env)
    assert done.returncode == 0, done.stderr
    assert "deleted 3 events of 1 conversations idle for more than 90 days" in done.stdout
    assert event_counts(store) == {"wecom:recent": 1, "web:old-but-active": 3}

    again = prune(endpoints, "--older-than-days", "90", env=env)
    assert "deleted 0 events of 0 conversations" in again.stdout


@pytest.mark.parametrize("days", ["0", "-3", "7.5", "abc"])
def test_a_bad_number_of_days_is_refused_and_deletes_nothing(tmp_path, days):
    db = tmp_path / "trackers.db"
    store = store_for({"dialect": "sqlite", "db": str(db)})
    save(store, "web:gone", [365])
    result = prune(endpoints_file(tmp_path, ["type: SQL", "dialect: sqlite", f"db: {db}"]), "--older-than-days", days)
    assert result.returncode == 2 and "whole number of days" in result.stderr
    assert event_counts(store) == {"web:gone": 1}


def test_an_endpoints_file_without_a_sql_store_is_refused(tmp_path):
    plain = tmp_path / "endpoints.yml"
    plain.write_text("action_endpoint:\n  url: http://127.0.0.1:5055/webhook\n")
    result = prune(plain, "--older-than-days", "90")
    assert result.returncode == 2 and "no SQL tracker store" in result.stderr
    missing_variable = endpoints_file(tmp_path, ["type: SQL", "dialect: sqlite", "db: ${PRUNE_TEST_UNSET_VARIABLE}"])
    result = prune(missing_variable, "--older-than-days", "90")
    assert result.returncode == 2 and "PRUNE_TEST_UNSET_VARIABLE" in result.stderr
