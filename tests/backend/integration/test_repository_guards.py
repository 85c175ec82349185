"""The decision path's last line of defence: every task and application update is guarded
by the state read under the lock, so a row changed behind the lock's back fails the whole
command (409) instead of being written over — and nothing of it is kept."""
from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select, update

from backend.db.models import Application, FlowRecord, Task, User
from backend.db.repository import Repository
from backend.db.rows import Changes
from backend.errors import Conflict
from backend.workflow import transitions as t
from backend.workflow.commands import Submit, Terminate
from backend.workflow.engine import Context, Workflow

from tests.support.forms import SEAL
from tests.support.workflow import handle


async def submitted(database):
    workflow = Workflow(ZoneInfo("Asia/Shanghai"))
    async with database.write() as session:
        applicant = await session.scalar(select(User).where(User.username == "t2001"))
        body = SEAL()
        submission = Submit(body["matter"], body["form"], body["approvers"])
        application = await handle(workflow, session, applicant, submission)
        task_id = await session.scalar(select(Task.id).where(Task.application_id == application.id))
        approver = await session.scalar(select(User).where(User.username == "t0002"))
    return workflow, application.id, task_id, approver


async def state(database, application_id):
    async with database.read() as session:
        tasks = list(await session.scalars(select(Task.status).where(Task.application_id == application_id)))
        app = await session.scalar(select(Application.status).where(Application.id == application_id))
        records = await session.scalar(select(func.count()).select_from(FlowRecord))
    return tasks, app, records


async def test_a_task_decided_behind_the_locks_back_is_not_decided_again(database):
    workflow, application_id, task_id, approver = await submitted(database)
    before = await state(database, application_id)
    with pytest.raises(Conflict) as refused:
        async with database.write() as session:
            runtime = await Repository.of(session)
            case = await runtime.lock_case_of_task(task_id, approver.id)
            task = case.task(task_id)
            # Someone who did not take the lock cancels the task after it was read …
            await session.execute(update(Task).where(Task.id == task_id).values(status=t.CANCELLED))
            ctx = Context(runtime, approver, workflow.tz, workflow.now())
            ctx.move_task(task, "approve", decision="approve", opinion="")
            ctx.record(case.application, "approve", node=case.application.process[0], task=task)
            await runtime.write(ctx.changes)  # … so the guarded update matches nothing
    assert refused.value.status == 409 and refused.value.code == "concurrent_change"
    assert await state(database, application_id) == before


async def test_an_application_changed_behind_the_locks_back_is_not_written_over(database):
    workflow, application_id, _, applicant = await submitted(database)
    before = await state(database, application_id)
    with pytest.raises(Conflict):
        async with database.write() as session:
            runtime = await Repository.of(session)
            case = await runtime.lock_case(application_id)
            await session.execute(update(Application).where(Application.id == application_id)
                                  .values(version=Application.version + 1))
            case.application.status = t.application_after(case.application.status, "terminate")
            changes = Changes()
            changes.application_changed(case.application)
            await runtime.write(changes)
    assert await state(database, application_id) == before


async def test_a_task_moved_behind_the_locks_back_is_not_cancelled_over(database, monkeypatch):
    workflow, application_id, task_id, _ = await submitted(database)
    before = await state(database, application_id)
    lock_case = Repository.lock_case

    async def locked_then_decided_elsewhere(self, wanted):
        case = await lock_case(self, wanted)
        # Someone who did not take the lock decides the open task after it was read …
        await self.connection.execute(update(Task).where(Task.id == task_id).values(status=t.DONE))
        return case

    monkeypatch.setattr(Repository, "lock_case", locked_then_decided_elsewhere)
    with pytest.raises(Conflict) as refused:
        async with database.write() as session:
            applicant = await session.scalar(select(User).where(User.username == "t2001"))
            # … so cancelling it matches nothing
            await handle(workflow, session, applicant, Terminate((application_id,), "不办了"))
    assert refused.value.status == 409 and refused.value.code == "concurrent_change"
    assert await state(database, application_id) == before
