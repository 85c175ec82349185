"""deploy/endpoints.yml as Rasa reads it: its tracker store (bot/tracker_store.py, on Rasa's SQL store) is PostgreSQL and keeps a
conversation (run in the Rasa venv, on a fresh database of the test's own)."""
from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.support.installation import ROOT, env_files

RASA_PYTHON = ROOT / ".venv" / "rasa" / "bin" / "python"
SAVE_AND_READ_BACK = """
import asyncio
from rasa.core.tracker_store import TrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import read_endpoint_config

store = TrackerStore.create(read_endpoint_config("deploy/endpoints.yml", "tracker_store"), Domain.empty())

async def main():
    await store.save(DialogueStateTracker.from_events("web:it0001", [UserUttered("你好")]))
    again = await store.retrieve("web:it0001")
    print(type(store).__name__, store.engine.dialect.name, again.latest_message.text)

asyncio.run(main())
"""


@pytest.mark.skipif(not RASA_PYTHON.exists(), reason=f"{RASA_PYTHON} is missing (make run / make test build it)")
def test_rasa_keeps_conversations_in_postgresql_with_the_production_endpoints(fresh_postgres_url):
    from sqlalchemy.engine import make_url

    database = make_url(fresh_postgres_url)
    rasa_env = {**env_files(fresh_postgres_url)["rasa.env"], "ACTION_SERVER_PORT": "5055",
                "RASA_TRACKER_DB_HOST": database.host or "127.0.0.1", "RASA_TRACKER_DB_PORT": str(database.port or 5432),
                "RASA_TRACKER_DB": database.database, "RASA_TRACKER_DB_USER": database.username or "postgres",
                "RASA_TRACKER_DB_PASSWORD": database.password or "unused-with-trust-auth",
                "PATH": "/usr/bin:/bin", "HOME": str(Path.home()), "RASA_TELEMETRY_ENABLED": "false"}
    result = subprocess.run([str(RASA_PYTHON), "-c", SAVE_AND_READ_BACK], cwd=ROOT, env=rasa_env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.split() == ["CachedSQLTrackerStore", "postgresql", "你好"], result.stdout
