"""What every view shares: its session, the college's timezone for times, how a person shows."""
from __future__ import annotations

from datetime import datetime, tzinfo
from typing import Any, Optional, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from ..db.models import Department, as_utc


class Shown(Protocol):
    """A person as shown: a user, a member row or a task's assignee."""

    username: str
    name: str


class View:
    def __init__(self, session: AsyncSession, tz: tzinfo):
        self.session = session
        self.tz = tz

    def time(self, value: Optional[datetime]) -> Optional[str]:
        return as_utc(value).astimezone(self.tz).isoformat(timespec="seconds") if value else None

    @staticmethod
    def person(user: Shown, department: Optional[Department] = None) -> dict[str, Any]:
        shown = {"username": user.username, "name": user.name}
        if department is not None:
            shown["department"] = department.name
        return shown
