"""The nodes' own rules on a real database (SQLite and PostgreSQL), with the demo matter
考勤补签申请: a timeout reminds (部门负责人确认, 48 h) or approves (考勤专员登记, 72 h) as the
system, run by the notifier's periodic job; a head's own correction skips their confirmation."""
from __future__ import annotations

import asyncio
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import select

from backend.db.models import Application, FlowRecord, OutboxMessage, Task, User
from backend.notify.reminders import apply_timeouts
from backend.workflow.commands import Approve, Submit
from backend.workflow.engine import Workflow

from tests.support.workflow import handle

COLLEGE_TZ = ZoneInfo("Asia/Shanghai")
FORM = {"missing_date": "2026-11-26", "punch_type": "上班打卡", "reason": "外出公干忘记打卡"}


async def user(session, username: str) -> User:
    return await session.scalar(select(User).where(User.username == username))


async def submitted(database, workflow, username: str) -> int:
    async with database.write() as session:
        return (await handle(workflow, session, await user(session, username),
                             Submit("attendance_correction", dict(FORM), {}))).id


async def open_tasks(database, application_id: int) -> list[tuple[str, str]]:
    async with database.read() as session:
        return [tuple(row) for row in await session.execute(
            select(Task.node_key, User.username).join(User, User.id == Task.assignee_id)
            .where(Task.application_id == application_id, Task.status == "pending").order_by(Task.id))]


async def records(database, application_id: int) -> list[tuple[str, dict]]:
    async with database.read() as session:
        return [tuple(row) for row in await session.execute(
            select(FlowRecord.action, FlowRecord.detail).where(FlowRecord.application_id == application_id)
            .order_by(FlowRecord.id))]


async def test_a_remind_timeout_then_an_approve_timeout_act_as_the_system_once_due(database, clock):
    clock.value = datetime(2026, 11, 27, 1, 0, tzinfo=timezone.utc)
    workflow = Workflow(COLLEGE_TZ, now=clock)
    application_id = await submitted(database, workflow, "t2001")
    assert await open_tasks(database, application_id) == [("dept_head", "t2101")]
    clock.advance(hours=47)
    assert await apply_timeouts(database, workflow, clock()) == 0
    clock.advance(hours=1)
    assert await apply_timeouts(database, workflow, clock()) == 1
    assert await apply_timeouts(database, workflow, clock()) == 0  # reminded for this period
    assert (await records(database, application_id))[-1] == ("remind", {"system": True})
    async with database.read() as session:
        reminded = await session.scalar(select(OutboxMessage.payload).where(OutboxMessage.event == "task_reminded"))
    assert reminded["actor_name"] == "系统"

    async with database.write() as session:
        head = await user(session, "t2101")
        [task_id] = list(await session.scalars(select(Task.id).where(Task.application_id == application_id)))
        await handle(workflow, session, head, Approve(task_id))
    clock.advance(hours=71)
    assert await apply_timeouts(database, workflow, clock()) == 0
    clock.advance(hours=1)
    # two notifier workers at once: one acts, the other finds it decided
    assert sorted(await asyncio.gather(apply_timeouts(database, workflow, clock()),
                                       apply_timeouts(database, workflow, clock()))) == [0, 1]
    async with database.read() as session:
        assert await session.scalar(select(Application.status).where(Application.id == application_id)) == "approved"
    assert (await records(database, application_id))[-1] == ("approve", {"system": True})


async def test_a_heads_own_correction_skips_their_confirmation(database, clock):
    workflow = Workflow(COLLEGE_TZ, now=clock)
    application_id = await submitted(database, workflow, "t2101")  # 韩松涛, 音乐系负责人
    assert await open_tasks(database, application_id) == [("attendance", "t1402")]
    assert (await records(database, application_id))[:2] == [
        ("submit", {}), ("skip", {"reason": "applicant", "system": True})]
