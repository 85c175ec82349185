"""The morning digest: one ``approver_digest`` outbox row per approver per workday.

At or after ``DIGEST_TIME`` (local, ``COLLEGE_TZ``) on a ``DIGEST_DAYS`` day — by default China's
official working days from chinesecalendar (国庆 off, a 调休 Saturday on) — each active
person with tasks awaiting their decision gets a row with the count and the oldest few; a
person with nothing pending gets nothing. The key ``approver_digest:<user>:<local date>`` and
the outbox's unique ``dedupe_key`` make a second insert that day a no-op, whichever worker
(or restart) tries it — as for 催办 (reminders.py).
"""
from __future__ import annotations

import logging
from datetime import date, datetime
from typing import Any

import chinese_calendar

from sqlalchemy import func, select
from sqlalchemy.orm import aliased

from ..config import DigestSchedule
from ..db.database import Database
from ..db.models import Application, Matter, Task, User, as_utc
from ..workflow import transitions as t
from .outbox import queue_once

EVENT = "approver_digest"
OLDEST = 3  # items named in the card; the count says how many there are in all
CHUNK = 500
log = logging.getLogger(__name__)
_unknown_years: set[int] = set()


def is_working_day(day: date) -> bool:
    """China's official working day (the State Council's yearly schedule, via chinesecalendar). A year
    the installed calendar does not know yet counts Monday to Friday, said once in the log: the
    schedule is announced each November, so bump chinesecalendar in requirements/backend.txt then."""
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError:
        if day.year not in _unknown_years:
            _unknown_years.add(day.year)
            log.warning("chinesecalendar has no holidays for %d: the morning digest counts Monday to Friday as "
                        "working days until it is updated (pip: chinesecalendar, requirements/backend.txt)", day.year)
        return day.weekday() < 5


def digest_key(user_id: int, day: date) -> str:
    return f"{EVENT}:{user_id}:{day.isoformat()}"


def due_day(schedule: DigestSchedule, now: datetime) -> date | None:
    """Today's local date when today's digest is due by ``now``; None before the time, on a day off, or when off."""
    if schedule.minute is None:
        return None
    local = now.astimezone(schedule.timezone)
    working = is_working_day(local.date()) if schedule.workdays else local.weekday() in schedule.days
    if not working or local.hour * 60 + local.minute < schedule.minute:
        return None
    return local.date()


async def scan(database: Database, now: datetime, schedule: DigestSchedule) -> int:
    """Queue today's digests when due; how many new ones were queued."""
    day = due_day(schedule, now)
    if day is None:
        return 0
    assignee = aliased(User)
    applicant = aliased(User)
    queued, after = 0, 0
    while True:
        async with database.read() as session:
            counts = (await session.execute(
                select(Task.assignee_id, func.count(Task.id))
                .join(assignee, assignee.id == Task.assignee_id)
                .where(Task.status == t.PENDING, assignee.active.is_(True), Task.assignee_id > after)
                .group_by(Task.assignee_id)
                .order_by(Task.assignee_id)
                .limit(CHUNK)
            )).all()
            if not counts:
                return queued
            after = counts[-1][0]
            ids = [row[0] for row in counts]
            rank = func.row_number().over(partition_by=Task.assignee_id,
                                          order_by=(Task.created_at, Task.id)).label("rank")
            ranked = (
                select(Task.assignee_id, Task.id, Task.created_at, Application.number,
                       Matter.name.label("matter"), applicant.name.label("applicant"), rank)
                .join(Application, Application.id == Task.application_id)
                .join(Matter, Matter.id == Application.matter_id)
                .join(applicant, applicant.id == Application.applicant_id)
                .where(Task.status == t.PENDING, Task.assignee_id.in_(ids))
                .subquery()
            )
            oldest = (await session.execute(
                select(ranked).where(ranked.c.rank <= OLDEST).order_by(ranked.c.assignee_id, ranked.c.rank)
            )).all()
        items: dict[int, list[dict[str, Any]]] = {}
        for row in oldest:
            items.setdefault(row.assignee_id, []).append({
                "task_id": row.id, "number": row.number, "matter": row.matter, "applicant": row.applicant,
                "waited_hours": int((now - as_utc(row.created_at)).total_seconds() // 3600)})
        values = [
            {"event": EVENT, "recipient_id": user_id, "dedupe_key": digest_key(user_id, day),
             "payload": {"day": day.isoformat(), "pending_count": count, "oldest": items.get(user_id, [])},
             "status": "pending", "attempts": 0, "created_at": now, "next_attempt_at": now}
            for user_id, count in counts
        ]
        queued += await queue_once(database, values)
