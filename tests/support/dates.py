"""Dates in the college's time zone, as forms and the backend expect them."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

COLLEGE_TZ = ZoneInfo("Asia/Shanghai")


def college_now() -> datetime:
    return datetime.now(COLLEGE_TZ)


def days_ahead(days: int) -> datetime:
    return college_now() + timedelta(days=days)


def tomorrow() -> str:
    return days_ahead(1).strftime("%Y-%m-%d")


def college_today() -> date:
    """Dates in forms and application numbers are the college's local dates, not UTC."""
    return college_now().date()


def day(offset: int = 1) -> str:
    """The college's date ``offset`` days from today, as forms write it (YYYY-MM-DD)."""
    return (college_today() + timedelta(days=offset)).isoformat()
