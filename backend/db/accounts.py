"""Passwords of accounts: set one (the person, or an administrator), end other sessions."""
from __future__ import annotations

from typing import Optional

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from .database import Database
from .models import User, UserRole, WebSession
from .web_sessions import session_id_hash


async def set_password(session: AsyncSession, user_id: int, password_hash: str, *, must_change: bool,
                       keep_cookie: Optional[str] = None) -> int:
    """Store the new hash, bump the credentials version (older tokens stop working) and end
    the account's web sessions except ``keep_cookie``'s (the browser that made the change).
    Returns the new credentials version."""
    version = await session.scalar(
        update(User).where(User.id == user_id)
        .values(password_hash=password_hash, must_change_password=must_change,
                credentials_version=User.credentials_version + 1)
        .returning(User.credentials_version))
    ended = delete(WebSession).where(WebSession.user_id == user_id)
    if keep_cookie:
        ended = ended.where(WebSession.id_hash != session_id_hash(keep_cookie))
    await session.execute(ended)
    return int(version)


async def user_named(session: AsyncSession, username: str) -> Optional[User]:
    return await session.scalar(select(User).where(User.username == username))


async def holds_role(database: Database, user_id: int, role: str) -> bool:
    async with database.read_one() as connection:
        return (await connection.execute(
            select(UserRole.role).where(UserRole.user_id == user_id, UserRole.role == role))).first() is not None
