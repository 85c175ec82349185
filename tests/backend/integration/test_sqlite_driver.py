"""The SQLite driver runs each statement in one trip to aiosqlite's thread and still
behaves as SQLAlchemy's own adapter: rows and their columns, counts, RETURNING,
executemany, errors translated, transactions."""
from __future__ import annotations

import aiosqlite
import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import create_async_engine

from backend.db.sqlite_driver import one_trip_dbapi


@pytest.fixture
async def engine(tmp_path):
    engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'driver.db'}", module=one_trip_dbapi())
    async with engine.begin() as connection:
        await connection.execute(text("CREATE TABLE things (id INTEGER PRIMARY KEY, name TEXT UNIQUE NOT NULL)"))
    yield engine
    await engine.dispose()


async def test_statements_return_rows_counts_and_ids_as_sqlalchemy_expects(engine):
    async with engine.begin() as connection:
        inserted = await connection.execute(text("INSERT INTO things (name) VALUES ('a')"))
        assert (inserted.rowcount, inserted.lastrowid) == (1, 1)
        many = await connection.execute(text("INSERT INTO things (name) VALUES (:name)"), [{"name": "b"}, {"name": "c"}])
        assert many.rowcount == 2
        returned = await connection.execute(text("INSERT INTO things (name) VALUES ('d') RETURNING id, name"))
        assert returned.mappings().all() == [{"id": 4, "name": "d"}]
        updated = await connection.execute(text("UPDATE things SET name = name || '!' WHERE id > 2"))
        assert updated.rowcount == 2
    async with engine.connect() as connection:
        rows = await connection.execute(text("SELECT id, name FROM things ORDER BY id"))
        assert list(rows.keys()) == ["id", "name"]
        assert rows.all() == [(1, "a"), (2, "b"), (3, "c!"), (4, "d!")]


async def test_errors_are_translated_and_roll_the_transaction_back(engine):
    with pytest.raises(IntegrityError):
        async with engine.begin() as connection:
            await connection.execute(text("INSERT INTO things (name) VALUES ('x')"))
            await connection.execute(text("INSERT INTO things (name) VALUES ('x')"))
    async with engine.connect() as connection:
        assert (await connection.execute(text("SELECT count(*) FROM things"))).scalar_one() == 0


async def test_a_statement_is_one_trip_to_the_thread(engine, monkeypatch):
    trips = []
    original = aiosqlite.Connection._execute

    async def counted(self, fn, *args, **kwargs):
        trips.append(fn)
        return await original(self, fn, *args, **kwargs)

    monkeypatch.setattr(aiosqlite.Connection, "_execute", counted)
    async with engine.connect() as connection:
        before = len(trips)
        await connection.execute(text("SELECT name FROM things"))
        assert len(trips) - before == 1
