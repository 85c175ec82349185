"""`migrate` runs once under a lock however many start together; `seed-demo` keeps away
from a database that holds a college's real people."""
from __future__ import annotations

import asyncio
import fcntl
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import asyncpg
import pytest
import yaml

from backend.db import migrate

from tests.support import databases
from tests.support.backend_api import SECRET

pytestmark = pytest.mark.processes  # starts processes of ours: make test, not make test-fast

ROOT = Path(__file__).resolve().parents[3]
WAITING = "Waiting for another migration"


class Migration:
    """`python -m backend migrate` in its own process, its output collected as it comes."""

    def __init__(self, env: dict[str, str]):
        self.process = subprocess.Popen([sys.executable, "-m", "backend", "migrate"], cwd=ROOT, env=env,
                                        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.lines: list[str] = []
        self.reader = threading.Thread(target=lambda: self.lines.extend(self.process.stdout), daemon=True)
        self.reader.start()

    def wait_for(self, text: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while not any(text in line for line in self.lines):
            assert self.process.poll() is None, f"ended without {text!r}: {self.lines}"
            assert time.monotonic() < deadline, f"no {text!r} within {timeout} s: {self.lines}"
            time.sleep(0.05)

    def finish(self) -> str:
        assert self.process.wait(timeout=120) == 0, self.lines
        self.reader.join()
        self.process.stdout.close()
        return "".join(self.lines)


def migrate_twice_while_locked(env: dict[str, str], hold_lock, release_lock) -> list[str]:
    """Two migrations started while 'another one' (the test) holds the lock: both must wait;
    once it is free, one migrates and the other finds nothing to do."""
    hold_lock()
    migrations = [Migration(env), Migration(env)]
    for migration in migrations:
        migration.wait_for(WAITING)
    release_lock()
    return sorted(migration.finish() for migration in migrations)


def assert_migrated_once(outputs: list[str]) -> None:
    head = migrate.head_revision("sqlite://")
    migrated = [o for o in outputs if f"Migrated from an empty database to {head}" in o]
    idle = [o for o in outputs if f"Nothing to do: already at {head}" in o]
    assert len(migrated) == 1 and len(idle) == 1, outputs


@pytest.mark.postgres
def test_two_migrations_at_once_on_postgresql_migrate_once(postgresql_url):
    name, url = databases.create_postgres_database()
    try:
        loop = asyncio.new_event_loop()
        holder = loop.run_until_complete(asyncpg.connect(url.replace("postgresql://", "postgres://", 1)))

        def hold() -> None:
            loop.run_until_complete(holder.execute("SELECT pg_advisory_lock($1)", migrate.ADVISORY_LOCK_KEY))

        def release() -> None:
            loop.run_until_complete(holder.execute("SELECT pg_advisory_unlock($1)", migrate.ADVISORY_LOCK_KEY))

        try:
            outputs = migrate_twice_while_locked({**os.environ, "DATABASE_URL": url}, hold, release)
        finally:
            loop.run_until_complete(holder.close())
            loop.close()
        assert_migrated_once(outputs)
    finally:
        databases.drop_postgres_database(name)


def test_two_migrations_at_once_on_sqlite_migrate_once(tmp_path):
    database = tmp_path / "campus.db"
    lock = open(f"{database}.migrate.lock", "a")
    outputs = migrate_twice_while_locked(
        {**os.environ, "DATABASE_URL": f"sqlite:///{database}"},
        lambda: fcntl.flock(lock, fcntl.LOCK_EX), lambda: fcntl.flock(lock, fcntl.LOCK_UN))
    lock.close()
    assert_migrated_once(outputs)


# ------------------------------------------------------------------ seed-demo
def backend(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "backend", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=180)


def user_count(url: str) -> int:
    async def count() -> int:
        from sqlalchemy import func, select

        from backend.db.database import Database
        from backend.db.models import User

        database = Database(url)
        try:
            async with database.read() as session:
                return await session.scalar(select(func.count(User.id)))
        finally:
            await database.dispose()

    return asyncio.run(count())


def test_seed_demo_refuses_a_database_with_imported_people_unless_forced(tmp_path):
    url = f"sqlite:///{tmp_path / 'college.db'}"
    env = {**os.environ, "DATABASE_URL": url, "BACKEND_SECRET_KEY": SECRET, "INITIAL_PASSWORD": "Start-2026-x"}
    org = tmp_path / "org.yml"
    org.write_text(yaml.safe_dump({"college": "某学院", "departments": [{"code": "office", "name": "办公室"}],
                                   "users": [{"username": "real0001", "name": "真实的人", "department": "office"}]},
                                  allow_unicode=True), encoding="utf-8")
    assert backend(["migrate"], env).returncode == 0
    assert backend(["import-org", str(org)], env).returncode == 0

    refused = backend(["seed-demo"], env)
    assert refused.returncode == 1, refused.stdout + refused.stderr
    assert "1 people who are not in the demo college" in refused.stderr and "--force" in refused.stderr
    assert user_count(url) == 1  # nothing loaded

    forced = backend(["seed-demo", "--force"], env)
    assert forced.returncode == 0, forced.stderr
    assert user_count(url) > 1


def test_seed_demo_still_refreshes_a_demo_database(tmp_path):
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'demo.db'}", "BACKEND_SECRET_KEY": SECRET}
    assert backend(["migrate"], env).returncode == 0
    assert backend(["seed-demo"], env).returncode == 0
    again = backend(["seed-demo"], env)
    assert again.returncode == 0 and "Demo data loaded" in again.stdout, again.stderr
