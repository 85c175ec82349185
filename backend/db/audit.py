"""The audit log: logins, password changes, sensitive reads.

``record`` is one INSERT on a connection of its own in autocommit (no transaction of its
own, never inside a workflow transaction). ``DatabaseFailures`` is the login throttle's
store when Redis is not configured: it counts the ``login_failed`` rows.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Optional

from sqlalchemy import func, insert, select

from ..auth.throttle import Limits, seconds_until
from .database import Database
from .models import AuditEvent, as_utc

audit = AuditEvent.__table__
LOGIN_FAILED, LOGIN_SUCCEEDED = "login_failed", "login_succeeded"


def _cut(value: Optional[str], size: int) -> Optional[str]:
    return value[:size] if value else value


async def record(database: Database, event: str, channel: str, *, user_id: Optional[int] = None,
                 username: Optional[str] = None, address: Optional[str] = None, user_agent: Optional[str] = None,
                 target: Optional[str] = None, at: Optional[datetime] = None) -> None:
    values = dict(at=at or datetime.now(timezone.utc), event=event, channel=channel, user_id=user_id,
                  username=_cut(username, 64), address=_cut(address, 64), user_agent=_cut(user_agent, 256),
                  target=_cut(target, 128))
    async with database.read_one() as connection:  # autocommit: the INSERT is its own statement
        await connection.execute(insert(audit).values(**values))


# A page that keeps itself current (the help desk's conversation page) reads again every few
# seconds: one look is one entry, not one per refresh.
REREAD_WINDOW = timedelta(minutes=10)


async def record_read(database: Database, channel: str, *, user_id: int, username: str, target: str,
                      address: Optional[str] = None, user_agent: Optional[str] = None,
                      at: Optional[datetime] = None) -> None:
    """A sensitive read, recorded unless the same person read the same thing within REREAD_WINDOW."""
    now = at or datetime.now(timezone.utc)
    query = (select(audit.c.id).where(audit.c.user_id == user_id, audit.c.event == "read",
                                      audit.c.target == _cut(target, 128), audit.c.at > now - REREAD_WINDOW)
             .limit(1))
    async with database.read_one() as connection:
        if (await connection.execute(query)).first() is not None:
            return
    await record(database, "read", channel, user_id=user_id, username=username, address=address,
                 user_agent=user_agent, target=target, at=now)


@dataclass(frozen=True)
class Entry:
    at: datetime
    event: str
    channel: str
    username: Optional[str]
    address: Optional[str]
    user_agent: Optional[str]
    target: Optional[str]

    def as_dict(self) -> dict:
        return {**self.__dict__, "at": self.at.isoformat()}


async def entries(database: Database, *, username: Optional[str] = None, since: Optional[datetime] = None,
                  event: Optional[str] = None, limit: int = 200) -> list[Entry]:
    """The newest first."""
    query = select(audit.c.at, audit.c.event, audit.c.channel, audit.c.username, audit.c.address,
                   audit.c.user_agent, audit.c.target).order_by(audit.c.at.desc(), audit.c.id.desc()).limit(limit)
    if username:
        query = query.where(audit.c.username == username)
    if since:
        query = query.where(audit.c.at >= since)
    if event:
        query = query.where(audit.c.event == event)
    async with database.read_one() as connection:
        rows = (await connection.execute(query)).all()
    return [Entry(as_utc(row.at), *row[1:]) for row in rows]


class DatabaseFailures:
    """Failed logins counted from the audit table (one indexed query per key per attempt).
    ``failed`` and ``succeeded`` have nothing to do: the audit rows are the record."""

    def __init__(self, database: Database, limits: Limits = Limits()):
        self.database, self.limits = database, limits

    async def _limit_reached_at(self, condition, limit: int, since: datetime) -> Optional[datetime]:
        """The time of the ``limit``-th newest failure in the window, if there are that many."""
        query = (select(audit.c.at).where(audit.c.event == LOGIN_FAILED, condition, audit.c.at > since)
                 .order_by(audit.c.at.desc()).offset(limit - 1).limit(1))
        async with self.database.read_one() as connection:
            found = (await connection.execute(query)).scalar()
        return as_utc(found) if found is not None else None

    async def retry_after(self, username: str, address: str, now: float) -> Optional[int]:
        window = self.limits.window_seconds
        since = datetime.fromtimestamp(now, timezone.utc) - timedelta(seconds=window)
        last_success = (select(func.max(audit.c.at))
                        .where(audit.c.event == LOGIN_SUCCEEDED, audit.c.username == username).scalar_subquery())
        account_since = func.coalesce(last_success, since)
        hits = [await self._limit_reached_at((audit.c.username == username) & (audit.c.at > account_since),
                                             self.limits.account_failures, since),
                await self._limit_reached_at(audit.c.address == address, self.limits.address_failures, since)]
        waits = [seconds_until(hit.timestamp(), window, now) for hit in hits if hit is not None]
        return max(waits) if waits else None

    async def failed(self, username: str, address: str, now: float) -> None:
        pass

    async def succeeded(self, username: str, now: float) -> None:
        pass

    async def close(self) -> None:
        pass
