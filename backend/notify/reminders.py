"""催办: an outbox row ``task_overdue`` for each task left pending too long.

One reminder per task per day at most: the n-th reminder of a task is due
``overdue + n days`` after the task was created and carries the key
``task_overdue:<task>:<n>``; the outbox's unique ``dedupe_key`` makes a second insert of
the same key a no-op, whichever worker (or restart) tries it.

And the nodes' own timeout rules (``timeout: {hours, action: remind | approve | return}`` in
the matter catalogue): each due task gets the workflow's ``Timeout`` command, as the system on
its holder's behalf, one unit of work each — the engine checks it is still due under the
application's lock, so two workers (or a decision in between) cannot act twice.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from ..db.database import Database
from ..db.models import Application, Task, User, as_utc
from ..db.repository import Repository
from ..errors import AppError
from ..workflow import transitions as t
from ..workflow.commands import Timeout
from ..workflow.engine import Workflow
from .outbox import queue_once

EVENT = "task_overdue"
CHUNK = 500
DAY = timedelta(days=1)
HOUR = timedelta(hours=1)  # the shortest timeout a node may have


def reminder_key(task_id: int, created_at: datetime, now: datetime, overdue: timedelta) -> str:
    period = int((now - as_utc(created_at) - overdue) // DAY)
    return f"{EVENT}:{task_id}:{period}"


async def scan(database: Database, now: datetime, overdue: timedelta) -> int:
    """Queue reminders for overdue pending tasks; how many new ones were queued."""
    queued, after = 0, 0
    while True:
        async with database.read() as session:
            rows = (await session.execute(
                select(Task.id, Task.assignee_id, Task.application_id, Task.created_at, Task.node_index,
                       Application.number, Application.process)
                .join(Application, Application.id == Task.application_id)
                .where(Task.status == t.PENDING, Task.created_at <= now - overdue, Task.id > after)
                .order_by(Task.id)
                .limit(CHUNK)
            )).all()
        if not rows:
            return queued
        after = rows[-1].id
        values: list[dict[str, Any]] = [
            {"event": EVENT, "recipient_id": row.assignee_id, "application_id": row.application_id,
             "task_id": row.id, "dedupe_key": reminder_key(row.id, row.created_at, now, overdue),
             "payload": {"number": row.number, "node_name": row.process[row.node_index]["name"],
                         "waited_hours": int((now - as_utc(row.created_at)).total_seconds() // 3600)},
             "status": "pending", "attempts": 0, "created_at": now, "next_attempt_at": now}
            for row in rows
        ]
        queued += await queue_once(database, values)


async def apply_timeouts(database: Database, workflow: Workflow, now: datetime) -> int:
    """Run the timeout rule of every due pending task; how many were acted on."""
    done, after = 0, 0
    while True:
        async with database.read() as session:
            rows = (await session.execute(
                select(Task.id, Task.assignee_id, Task.created_at, Task.node_index, Application.process)
                .join(Application, Application.id == Task.application_id)
                .where(Task.status == t.PENDING, Task.kind == t.APPROVAL, Task.created_at <= now - HOUR,
                       Task.id > after)
                .order_by(Task.id)
                .limit(CHUNK)
            )).all()
        if not rows:
            return done
        after = rows[-1].id
        for row in rows:
            rule = row.process[row.node_index].get("timeout")
            if rule is None or now - as_utc(row.created_at) < timedelta(hours=rule["hours"]):
                continue
            try:
                async with database.write() as session:
                    holder = await session.get_one(User, row.assignee_id)
                    await workflow.handle(await Repository.of(session), holder, Timeout(row.id))
                done += 1
            except AppError:  # decided meanwhile, reminded already this period: nothing to do
                continue
