"""Engines and transactions.

``Database.write()`` is the unit of work for every state change: one transaction,
committed on success, rolled back on any error. Writers are serialized per
application by a row lock (``SELECT … FOR UPDATE`` on PostgreSQL); SQLite has no row
locks, so its write transactions start with ``BEGIN IMMEDIATE`` and queue on the
database lock instead of failing half-way with "database is locked".
"""
from __future__ import annotations

import asyncio
import time
from contextlib import AsyncExitStack, asynccontextmanager
from typing import AsyncIterator, Optional

from sqlalchemy import event, exc
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from .sqlite_driver import one_trip_dbapi

SQLITE_BUSY_TIMEOUT_MS = 30_000
# A pooled PostgreSQL connection idle longer than this is pinged before it is handed out.
PING_AFTER_IDLE_SECONDS = 10.0


def to_async_url(url: str) -> str:
    """Accept plain ``sqlite:///`` / ``postgresql://`` URLs and pick our async drivers."""
    parsed = make_url(url)
    driver = {"sqlite": "sqlite+aiosqlite", "postgresql": "postgresql+asyncpg"}.get(
        parsed.drivername, parsed.drivername
    )
    return parsed.set(drivername=driver).render_as_string(hide_password=False)


def _sqlite_engine(url: str, *, begin: Optional[str]) -> AsyncEngine:
    """``begin``: how its transactions start (``BEGIN IMMEDIATE`` for writers), or None for
    single statements that are each their own transaction: no BEGIN, no ROLLBACK — each is a
    trip to aiosqlite's thread."""
    single = {"isolation_level": "AUTOCOMMIT", "skip_autocommit_rollback": True, "pool_reset_on_return": None}
    engine = create_async_engine(url, module=one_trip_dbapi(),
                                 connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}, **({} if begin else single))

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection, _record):  # noqa: ANN001
        # Let SQLAlchemy's "begin" event decide how transactions start.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        # WAL with synchronous=NORMAL: no fsync per commit (≈2 ms here, while every other
        # writer waits), still never corrupt; a power cut may lose the last commits, a crash
        # of the process loses nothing. FULL would make every commit survive power loss.
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.close()

    if begin:
        @event.listens_for(engine.sync_engine, "begin")
        def _on_begin(connection):  # noqa: ANN001
            connection.exec_driver_sql(begin)

    return engine


def _ping_when_idle(engine: AsyncEngine) -> None:
    """Ping a pooled connection only when it has been idle a while. SQLAlchemy's
    ``pool_pre_ping`` pings at every checkout, and on asyncpg a ping is three round trips
    (BEGIN, ping, ROLLBACK): more than a third of an approval's. A connection that came back
    from a request moments ago is alive; one idle longer may have been cut (a restart, a
    firewall), so it is pinged, and if dead the pool is invalidated and a new one connected.
    A restart within those seconds fails the next statement instead, which also invalidates
    the pool (SQLAlchemy's disconnect handling)."""
    dialect = engine.sync_engine.dialect

    @event.listens_for(engine.sync_engine, "checkin")
    def _checked_in(dbapi_connection, record):  # noqa: ANN001
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine.sync_engine, "checkout")
    def _checked_out(dbapi_connection, record, proxy):  # noqa: ANN001
        idle_since = record.info.get("idle_since")
        if idle_since is None or time.monotonic() - idle_since < PING_AFTER_IDLE_SECONDS:
            return
        try:
            dialect.do_ping(dbapi_connection)
        except Exception as error:  # whatever the ping died of, the connection is unusable
            raise exc.InvalidatePoolError() from error  # the pool connects afresh and retries


class Database:
    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = to_async_url(url)
        self.is_sqlite = self.url.startswith("sqlite")
        if self.is_sqlite:
            self.engine = _sqlite_engine(self.url, begin="BEGIN")
            self._write_engine = _sqlite_engine(self.url, begin="BEGIN IMMEDIATE")
            self._single_reads = _sqlite_engine(self.url, begin=None)
        else:
            self.engine = create_async_engine(
                self.url, echo=echo, pool_size=20, max_overflow=10
            )
            _ping_when_idle(self.engine)
            self._write_engine = self.engine
            # One-statement reads need no transaction: no BEGIN and ROLLBACK round trips. Their
            # own small pool, so no connection switches its isolation level back and forth.
            self._single_reads = create_async_engine(self.url, echo=echo, isolation_level="AUTOCOMMIT",
                                                     pool_size=5, max_overflow=5)
            _ping_when_idle(self._single_reads)
        # SQLite has one writer at a time; queueing writers here is fairer and faster
        # than letting them poll the file lock (busy_timeout stays as the cross-process guard).
        self._write_lock = asyncio.Lock() if self.is_sqlite else None
        self._read_sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        self._write_sessions = async_sessionmaker(self._write_engine, expire_on_commit=False)

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        async with self._read_sessions() as session:
            yield session

    @asynccontextmanager
    async def read_one(self) -> AsyncIterator[AsyncConnection]:
        """A connection for a single read statement (e.g. who is calling, on every request)."""
        async with self._single_reads.connect() as connection:
            yield connection

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncSession]:
        async with AsyncExitStack() as stack:
            if self._write_lock is not None:
                await stack.enter_async_context(self._write_lock)
            session = await stack.enter_async_context(self._write_sessions())
            await stack.enter_async_context(session.begin())
            yield session

    async def dispose(self) -> None:
        await self.engine.dispose()
        await self._single_reads.dispose()
        if self.is_sqlite:
            await self._write_engine.dispose()
