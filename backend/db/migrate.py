"""Alembic, driven from code (``python -m backend migrate``) so no ini file is needed.

``upgrade`` runs under a lock, so a deploy that starts the migration on several machines
at once migrates once: the others wait, then find the schema at head. PostgreSQL: a
session advisory lock held on its own connection while Alembic works on another. SQLite:
an exclusive lock on a file beside the database.
"""
from __future__ import annotations

import asyncio
import fcntl
import zlib
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import AsyncIterator, Callable, Optional

from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine

from .database import to_async_url

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"
# Advisory locks are per database; one fixed key names "the schema migration" in ours.
ADVISORY_LOCK_KEY = zlib.crc32(b"campus-assistant schema migration")


@dataclass(frozen=True)
class Outcome:
    before: Optional[str]  # the revision found once the lock was ours (None: empty database)
    head: str
    waited: bool  # another migration held the lock when we asked

    @property
    def migrated(self) -> bool:
        return self.before != self.head


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def head_revision(database_url: str) -> str:
    return ScriptDirectory.from_config(alembic_config(database_url)).get_current_head()


async def current_revision(connection: AsyncConnection) -> Optional[str]:
    return await connection.run_sync(lambda sync: MigrationContext.configure(sync).get_current_revision())


def upgrade(database_url: str, revision: str = "head",
            on_wait: Callable[[], None] = lambda: None) -> Outcome:
    """Upgrade to ``revision`` under the migration lock; ``on_wait`` is called if we must wait."""
    return asyncio.run(_locked_upgrade(database_url, revision, on_wait))


async def _locked_upgrade(database_url: str, revision: str, on_wait: Callable[[], None]) -> Outcome:
    # AUTOCOMMIT: this connection holds the lock and reads the version, nothing else, and
    # must leave no transaction open that Alembic's DDL on the other connection could wait on.
    engine = create_async_engine(to_async_url(database_url), isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as connection, _migration_lock(connection, database_url, on_wait) as waited:
            before = await current_revision(connection)
            # Alembic runs its own event loop (migrations/env.py): give it a thread.
            await asyncio.to_thread(command.upgrade, alembic_config(database_url), revision)
            return Outcome(before=before, head=await current_revision(connection) or "", waited=waited)
    finally:
        await engine.dispose()


@asynccontextmanager
async def _migration_lock(connection: AsyncConnection, database_url: str,
                          on_wait: Callable[[], None]) -> AsyncIterator[bool]:
    if connection.dialect.name == "postgresql":
        async with _advisory_lock(connection, on_wait) as waited:
            yield waited
    else:
        with _file_lock(_lock_path(database_url), on_wait) as waited:
            yield waited


@asynccontextmanager
async def _advisory_lock(connection: AsyncConnection, on_wait: Callable[[], None]) -> AsyncIterator[bool]:
    waited = not await connection.scalar(text("SELECT pg_try_advisory_lock(:key)"), {"key": ADVISORY_LOCK_KEY})
    if waited:
        on_wait()
        await connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": ADVISORY_LOCK_KEY})
    try:
        yield waited
    finally:
        await connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": ADVISORY_LOCK_KEY})


def _lock_path(database_url: str) -> Path:
    database = make_url(database_url).database
    if not database or database == ":memory:":
        raise ValueError(f"cannot lock the migration of an in-memory SQLite database ({database_url})")
    return Path(database + ".migrate.lock")


class _file_lock:
    """flock on a file beside the database; released by the kernel if the process dies."""

    def __init__(self, path: Path, on_wait: Callable[[], None]):
        self.path, self.on_wait = path, on_wait

    def __enter__(self) -> bool:
        self.file = open(self.path, "a")
        try:
            fcntl.flock(self.file, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return False
        except BlockingIOError:
            self.on_wait()
            fcntl.flock(self.file, fcntl.LOCK_EX)  # blocks this thread only until the other migration ends
            return True

    def __exit__(self, *exc: object) -> None:
        fcntl.flock(self.file, fcntl.LOCK_UN)
        self.file.close()


def make_revision(database_url: str, message: str) -> None:
    command.revision(alembic_config(database_url), message=message, autogenerate=True)
