"""Server-side sessions of the web hall: create on login, look up per request, delete on
logout; expired rows are refused on sight and purged when someone logs in."""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Optional

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from .models import User, WebSession


@dataclass(frozen=True)
class LiveSession:
    user: User
    csrf_token: str
    expires_at: datetime
    method: str = "password"  # how it started: password | cas | wecom


def session_id_hash(cookie_value: str) -> str:
    return hashlib.sha256(cookie_value.encode()).hexdigest()


_hash = session_id_hash


async def start(session: AsyncSession, user: User, now: datetime, ttl_seconds: int,
                method: str = "password") -> tuple[str, LiveSession]:
    """A new session for ``user``; returns the cookie value (shown once, stored hashed)."""
    await session.execute(delete(WebSession).where(WebSession.expires_at < now))
    cookie_value = secrets.token_urlsafe(32)
    row = WebSession(id_hash=_hash(cookie_value), user_id=user.id, csrf_token=secrets.token_urlsafe(32),
                     created_at=now, expires_at=now + timedelta(seconds=ttl_seconds), method=method)
    session.add(row)
    return cookie_value, LiveSession(user, row.csrf_token, row.expires_at, method)


async def find(session: AsyncSession, cookie_value: str, now: datetime) -> Optional[LiveSession]:
    row = (await session.execute(
        select(WebSession, User).join(User, User.id == WebSession.user_id)
        .where(WebSession.id_hash == _hash(cookie_value), WebSession.expires_at > now, User.active.is_(True))
    )).first()
    return LiveSession(row[1], row[0].csrf_token, row[0].expires_at, row[0].method) if row else None


async def end(session: AsyncSession, cookie_value: str) -> None:
    await session.execute(delete(WebSession).where(WebSession.id_hash == _hash(cookie_value)))
