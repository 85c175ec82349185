"""Dates in the college's time zone, as forms and the backend expect them."""
from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

COLLEGE_TZ = ZoneInfo("Asia/Shanghai")


def college_now() -> datetime:
    return datetime.now(COLLEGE_TZ)


def days_ahead(days: int) -> datetime:
    return college_now() + timedelta(days=days)


def tomorrow() -> str:
    return days_ahead(1).strftime("%Y-%m-%d")
