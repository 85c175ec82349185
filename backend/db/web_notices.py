"""Notifications for the web chat panel (people without WeCom): read and mark as read."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from .models import WebNotice


async def listed(session: AsyncSession, user_id: int, unread_only: bool, limit: int) -> list[dict[str, Any]]:
    """The user's notices, oldest first (the order they are shown in the chat)."""
    query = select(WebNotice).where(WebNotice.user_id == user_id)
    if unread_only:
        query = query.where(WebNotice.read_at.is_(None))
    newest = (await session.scalars(query.order_by(WebNotice.id.desc()).limit(limit))).all()
    return [{"id": n.id, "messages": n.messages, "created_at": n.created_at.isoformat(), "read": n.read_at is not None}
            for n in reversed(newest)]


async def mark_read(session: AsyncSession, user_id: int, up_to: int, now: datetime) -> int:
    """Mark the user's notices up to id ``up_to`` read; how many were unread."""
    result = await session.execute(
        update(WebNotice)
        .where(WebNotice.user_id == user_id, WebNotice.id <= up_to, WebNotice.read_at.is_(None))
        .values(read_at=now)
    )
    return result.rowcount or 0
