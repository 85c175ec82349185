"""The CAS service tickets web sessions were started with, stored hashed: the CAS server's
single-logout request names a ticket, and the session it started ends; a ticket is
accepted once."""
from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from .models import CasTicket, WebSession
from .web_sessions import session_id_hash


def _hash(ticket: str) -> str:
    return hashlib.sha256(ticket.encode()).hexdigest()


async def seen(session: AsyncSession, ticket: str) -> bool:
    return await session.scalar(select(CasTicket.ticket_hash).where(CasTicket.ticket_hash == _hash(ticket))) is not None


async def remember(session: AsyncSession, ticket: str, cookie_value: str, now: datetime) -> None:
    session.add(CasTicket(ticket_hash=_hash(ticket), session_hash=session_id_hash(cookie_value), created_at=now))


async def end_session_of(session: AsyncSession, ticket: str) -> bool:
    """End the web session ``ticket`` started (its row goes with it); False if there is none."""
    session_hash = await session.scalar(select(CasTicket.session_hash).where(CasTicket.ticket_hash == _hash(ticket)))
    if session_hash is None:
        return False
    await session.execute(delete(WebSession).where(WebSession.id_hash == session_hash))
    return True
