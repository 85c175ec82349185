"""A settable clock for the backend under test, so tests can cross days and deadlines."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Optional


class Clock:
    """A settable clock so tests can cross days and deadlines deterministically."""

    def __init__(self) -> None:
        self.value: Optional[datetime] = None

    def __call__(self) -> datetime:
        return self.value or datetime.now(timezone.utc)

    def advance(self, **delta: float) -> None:
        self.value = self() + timedelta(**delta)
