"""The outbox as a queue: claim due rows, then mark each sent, retried or failed.

Claiming is a short write transaction that pushes the rows' ``next_attempt_at`` one
lease into the future (PostgreSQL: ``FOR UPDATE SKIP LOCKED`` so concurrent workers
take disjoint rows). Delivery happens outside any transaction; marking is another
short one. A worker that dies after claiming leaves its rows ``pending``: they come
due again when the lease ends. Nothing is marked ``sent`` before the receiver confirmed it.
A recipient with a WeCom id is notified there; anyone else in the web chat panel.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Optional

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from ..db.database import Database
from ..db.models import OutboxMessage, User, WebNotice

PENDING, SENT, FAILED, SKIPPED = "pending", "sent", "failed", "skipped"
MAX_ERROR_CHARS = 500


WECOM, WEB = "wecom", "web"


@dataclass(frozen=True)
class Delivery:
    """One claimed row, with what the receiver needs to know. ``channel`` is where the
    recipient reads it: WeCom when they have a WeCom id, else the web chat panel."""

    id: int
    event: str
    channel: str
    recipient: str  # the WeCom userid, or the username on the web
    user_id: int
    application_id: Optional[int]
    task_id: Optional[int]
    payload: dict[str, Any]
    attempts: int

    @property
    def conversation_id(self) -> str:
        """The recipient's conversation with the assistant (the identity actions act for)."""
        return f"{self.channel}:{self.recipient}"


@dataclass(frozen=True)
class Backoff:
    base_seconds: float
    max_seconds: float
    max_attempts: int

    def delay(self, attempts: int) -> timedelta:
        """Delay after the ``attempts``-th failed try: base, 2·base, 4·base … capped."""
        return timedelta(seconds=min(self.base_seconds * 2 ** (attempts - 1), self.max_seconds))


async def queue_once(database: Database, values: list[dict[str, Any]]) -> int:
    """Insert rows that carry a ``dedupe_key``; a key already there is skipped (whichever worker
    or restart tried first). How many were new."""
    insert = sqlite_insert if database.is_sqlite else pg_insert
    async with database.write() as session:
        inserted = await session.scalars(
            insert(OutboxMessage).values(values)
            .on_conflict_do_nothing(index_elements=["dedupe_key"])
            .returning(OutboxMessage.id)
        )
        return len(list(inserted))


async def claim(database: Database, now: datetime, limit: int, lease: timedelta) -> tuple[list[Delivery], int]:
    """Due rows for this worker, and how many were skipped (recipient no longer active)."""
    async with database.write() as session:
        due = (
            select(OutboxMessage.id)
            .where(OutboxMessage.status == PENDING, OutboxMessage.next_attempt_at <= now)
            .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
            .limit(limit)
        )
        if not database.is_sqlite:  # SQLite: BEGIN IMMEDIATE already serializes claimers
            due = due.with_for_update(skip_locked=True)
        ids = list(await session.scalars(due))
        if not ids:
            return [], 0
        rows = await session.execute(
            select(OutboxMessage, User.wecom_userid, User.username, User.active)
            .join(User, User.id == OutboxMessage.recipient_id)
            .where(OutboxMessage.id.in_(ids))
            .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        )
        claimed, skipped = [], 0
        for message, wecom_userid, username, active in rows:
            if not active:
                message.status, message.last_error = SKIPPED, "recipient is no longer active"
                skipped += 1
                continue
            message.next_attempt_at = now + lease
            channel, recipient = (WECOM, wecom_userid) if wecom_userid else (WEB, username)
            # The help desk answers in the chat the person wrote from (the backend set it from their identity).
            chat = (message.payload or {}).get("chat", "")
            if chat in (f"{WECOM}:{wecom_userid}", f"{WEB}:{username}"):
                channel, _, recipient = chat.partition(":")
            claimed.append(Delivery(message.id, message.event, channel, recipient, message.recipient_id,
                                    message.application_id, message.task_id, dict(message.payload or {}),
                                    message.attempts))
        return claimed, skipped


async def mark_sent(database: Database, delivery: Delivery, now: datetime,
                    shown: Optional[list[dict[str, Any]]] = None) -> None:
    """Mark the row sent; for the web, keep what the assistant said as the user's notice,
    in the same transaction (at most one notice per row: ``outbox_id`` is unique)."""
    async with database.write() as session:
        marked = await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == delivery.id, OutboxMessage.status == PENDING)
            .values(status=SENT, sent_at=now, attempts=OutboxMessage.attempts + 1, last_error=None)
        )
        if marked.rowcount and delivery.channel == WEB and shown:
            session.add(WebNotice(user_id=delivery.user_id, outbox_id=delivery.id, messages=shown, created_at=now))


async def mark_failed(database: Database, delivery: Delivery, error: str, now: datetime, backoff: Backoff) -> str:
    """Record a failed try; the row's new status (``pending`` to retry, or ``failed``)."""
    attempts = delivery.attempts + 1
    status = FAILED if attempts >= backoff.max_attempts else PENDING
    async with database.write() as session:
        await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == delivery.id, OutboxMessage.status == PENDING)
            .values(status=status, attempts=attempts, last_error=error[:MAX_ERROR_CHARS],
                    next_attempt_at=now + backoff.delay(attempts))
        )
    return status


async def release(database: Database, ids: list[int], now: datetime) -> None:
    """Give claimed but untried rows back at once (a graceful stop), instead of after the lease."""
    if not ids:
        return
    async with database.write() as session:
        await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(ids), OutboxMessage.status == PENDING)
            .values(next_attempt_at=now)
        )
