"""Test databases: a fresh SQLite file and a fresh PostgreSQL database per test run,
migrated with Alembic and loaded with the demo college once, wiped of runtime rows
before each test. Nothing depends on leftovers from an earlier run."""
from __future__ import annotations

import asyncio
import os
import uuid
from typing import Optional

import asyncpg
from sqlalchemy import text

from argon2 import PasswordHasher

from backend.auth.passwords import hash_password
from backend.catalog.loader import DEMO_DIR, import_catalog, import_org, read_yaml
from backend.db import migrate
from backend.db.database import Database

POSTGRES_ADMIN_DSN = os.environ.get("TEST_POSTGRES_DSN", "postgresql://postgres@127.0.0.1:5432/test")
DEMO_PASSWORD = "Demo@2026"
# Still Argon2id, with cheap parameters: seeding 59 users at production cost takes 10 s.
FAST_HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
# audit_events: also the failed logins the throttle counts — a test's wrong passwords must not lock the next test out.
RUNTIME_TABLES = ("helpdesk_messages", "helpdesk_conversations", "helpdesk_tickets",
                  "web_sessions", "idempotency_records", "web_notices", "outbox", "application_cc", "uploaded_files", "flow_records", "tasks",
                  "applications",
                  "daily_counters", "audit_events", "faq_questions", "faq_answers")


def postgres_unavailable_reason() -> Optional[str]:
    async def probe() -> None:
        connection = await asyncpg.connect(POSTGRES_ADMIN_DSN, timeout=3)
        await connection.close()

    try:
        asyncio.run(probe())
        return None
    except Exception as error:  # noqa: BLE001 - any failure means "not reachable"
        return f"PostgreSQL not reachable at {POSTGRES_ADMIN_DSN} ({error.__class__.__name__}: {error})"


def create_postgres_database() -> tuple[str, str]:
    name = f"campus_test_{uuid.uuid4().hex[:10]}"

    async def create() -> None:
        connection = await asyncpg.connect(POSTGRES_ADMIN_DSN)
        await connection.execute(f'CREATE DATABASE "{name}"')
        await connection.close()

    asyncio.run(create())
    base = POSTGRES_ADMIN_DSN.rsplit("/", 1)[0]
    return name, f"{base}/{name}"


def drop_postgres_database(name: str) -> None:
    async def drop() -> None:
        connection = await asyncpg.connect(POSTGRES_ADMIN_DSN)
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await connection.close()

    asyncio.run(drop())


def prepare(url: str) -> None:
    """Migrate to head and load the demo college."""
    migrate.upgrade(url)

    async def seed() -> None:
        database = Database(url)
        async with database.write() as session:
            await import_org(session, read_yaml(DEMO_DIR / "org.yml"),
                             lambda p: hash_password(p, FAST_HASHER), DEMO_PASSWORD)
            await import_catalog(session, read_yaml(DEMO_DIR / "matters.yml"))
        await database.dispose()

    asyncio.run(seed())


async def wipe_runtime(database: Database) -> None:
    async with database.write() as session:
        if database.is_sqlite:
            for table in RUNTIME_TABLES:
                await session.execute(text(f"DELETE FROM {table}"))
        else:
            await session.execute(text(f"TRUNCATE {', '.join(RUNTIME_TABLES)} RESTART IDENTITY CASCADE"))
