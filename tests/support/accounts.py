"""People of a test's own (not the shared demo accounts, whose passwords other tests use),
removed afterwards with their sessions and audit rows."""
from __future__ import annotations

import secrets
from typing import AsyncIterator, Callable, Awaitable

from sqlalchemy import delete, select

from backend.auth.passwords import hash_password
from backend.db.database import Database
from backend.db.models import AuditEvent, Department, User, WebSession

from .databases import DEMO_PASSWORD, FAST_HASHER

NewPerson = Callable[..., Awaitable[str]]


async def people_of_a_test(database: Database) -> AsyncIterator[NewPerson]:
    """A fixture body: ``await new_person(password=…, must_change=…)`` → a fresh username."""
    made: list[str] = []

    async def new_person(password: str = DEMO_PASSWORD, *, must_change: bool = False) -> str:
        username = f"p{secrets.token_hex(4)}"
        async with database.write() as session:
            department = await session.scalar(select(Department.id).order_by(Department.id).limit(1))
            session.add(User(username=username, name="测试人员", department_id=department,
                             password_hash=hash_password(password, FAST_HASHER), must_change_password=must_change))
        made.append(username)
        return username

    yield new_person
    async with database.write() as session:
        ids = list(await session.scalars(select(User.id).where(User.username.in_(made))))
        await session.execute(delete(WebSession).where(WebSession.user_id.in_(ids)))
        await session.execute(delete(AuditEvent).where(AuditEvent.username.in_(made)))
        await session.execute(delete(User).where(User.id.in_(ids)))
