"""PostgreSQL connections cut under the pool (a restart, a firewall): a connection idle for
a while is pinged and replaced before use; one cut moments after its last use fails one
statement, and the pool then connects afresh."""
from __future__ import annotations

import asyncpg
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from backend.db import database as database_module
from backend.db.database import Database

from tests.support.databases import POSTGRES_ADMIN_DSN


async def cut_connections(url: str) -> None:
    admin = await asyncpg.connect(POSTGRES_ADMIN_DSN)
    await admin.execute(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
        url.rsplit("/", 1)[1])
    await admin.close()


async def select_one(database: Database) -> int:
    async with database.read() as session:
        return await session.scalar(text("SELECT 1"))


@pytest.fixture
async def postgres(postgresql_url):
    database = Database(postgresql_url)
    yield database, postgresql_url
    await database.dispose()


async def test_a_connection_cut_while_idle_is_replaced_before_use(postgres, monkeypatch):
    database, url = postgres
    monkeypatch.setattr(database_module, "PING_AFTER_IDLE_SECONDS", 0.0)  # every connection counts as idle
    assert await select_one(database) == 1
    await cut_connections(url)
    assert await select_one(database) == 1


async def test_a_connection_cut_moments_after_use_fails_once_then_the_pool_reconnects(postgres):
    database, url = postgres
    assert await select_one(database) == 1
    await cut_connections(url)
    with pytest.raises(DBAPIError) as failed:
        await select_one(database)
    assert failed.value.connection_invalidated
    assert await select_one(database) == 1
