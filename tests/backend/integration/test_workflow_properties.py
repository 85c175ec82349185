"""Random sequences of commands keep the workflow's invariants (hypothesis).

The engine runs on a real database; each step is one unit of work. After every step:
one decision per task, records that match the task states, no open task on a finished
or returned application, a running application always held by someone at its current
node, waiting approvers exactly when signers or delegates owe opinions, nothing recorded
after a final state — and a command that fails changes nothing at all. The commands include
the approval moves (撤回, 备注, 催办, 转办, 委派, 退回到环节).
"""
from __future__ import annotations

from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from backend.catalog.loader import import_catalog
from backend.db.models import Application, FlowRecord, OutboxMessage, Task, User
from backend.errors import AppError
from backend.workflow import transitions as t
from backend.workflow.commands import (
    AddSigners,
    Approve,
    CarbonCopy,
    Comment,
    Delegate,
    Remind,
    RemoveSigners,
    Resubmit,
    Return,
    Sign,
    Submit,
    Terminate,
    Transfer,
    Withdraw,
)
from backend.workflow.engine import Workflow

from tests.support import databases
from tests.support.workflow import handle

CATALOG = {"centers": [{"code": "pbt", "name": "性质测试", "matters": [{
    "code": "pbt_chain", "name": "两级审批",
    "form": [{"key": "note", "label": "说明", "type": "text", "required": True}],
    "process": [
        {"key": "first", "name": "或签节点", "mode": "any", "approvers": {"rule": "users", "users": ["t1201", "t1202"]}},
        {"key": "second", "name": "会签节点", "mode": "all", "approvers": {"rule": "users", "users": ["t1203", "t1204"]}},
    ],
}]}]}
USERS = ["t2001", "t2103", "t1201", "t1202", "t1203", "t1204", "t1301"]
DECISIONS = ("approve", "approve", "return", "add_signers", "sign", "sign", "transfer", "delegate", "return_to",
             "add_signers_after", "remove_signers")
# the records of a task done
DECIDING_RECORDS = ("approve", "return", "sign", "transfer", "delegate_opinion", "add_signers_after")

steps = st.lists(
    st.one_of(
        st.tuples(st.just("submit"), st.sampled_from(["t2001", "t2103"])),
        st.tuples(st.sampled_from(DECISIONS), st.integers(0, 30), st.booleans(), st.booleans()),
        st.tuples(st.sampled_from(["terminate", "resubmit", "withdraw", "comment", "remind", "cc"]),
                  st.integers(0, 10), st.booleans()),
    ),
    min_size=1, max_size=25,
)


async def snapshot(session):
    tasks = [(x.id, x.status) for x in await session.scalars(select(Task).order_by(Task.id))]
    apps = [(a.id, a.status, a.round) for a in await session.scalars(select(Application).order_by(Application.id))]
    records = await session.scalar(select(func.count(FlowRecord.id)))
    outbox = await session.scalar(select(func.count(OutboxMessage.id)))
    return tasks, apps, records, outbox


async def check_invariants(session):
    tasks = list(await session.scalars(select(Task)))
    apps = {a.id: a for a in await session.scalars(select(Application))}
    records = list(await session.scalars(select(FlowRecord)))
    by_id = {x.id: x for x in tasks}
    for task in tasks:
        decisions = [r for r in records if r.task_id == task.id and r.action in DECIDING_RECORDS]
        assert len(decisions) == (1 if task.status == t.DONE else 0), (task.id, task.status, len(decisions))
        if task.kind in (t.SIGNER, t.DELEGATE) or task.parent_task_id is not None:
            assert by_id[task.parent_task_id].kind == t.APPROVAL
        if task.status in t.OPEN_TASK_STATES:
            app = apps[task.application_id]
            assert app.status == t.RUNNING, (app.status, task.id)
            assert (task.round, task.node_index) == (app.round, app.current_node)
        if task.kind == t.APPROVAL and task.status in t.OPEN_TASK_STATES:
            owing = [x for x in tasks if x.parent_task_id == task.id and x.status in t.OPEN_TASK_STATES]
            assert (task.status == t.WAITING) == bool(owing)
    for app in apps.values():
        starts = [r for r in records if r.application_id == app.id and r.action in ("submit", "resubmit")]
        assert len(starts) == app.round
        held = [x for x in tasks if x.application_id == app.id and x.kind == t.APPROVAL
                and x.status in t.OPEN_TASK_STATES]
        assert bool(held) == (app.status == t.RUNNING), (app.id, app.status)
        assert (app.finished_at is not None) == (app.status in t.FINISHED_APPLICATION_STATES)
        if app.status in t.FINISHED_APPLICATION_STATES:  # nothing after a final state: its move is the last record
            last = max((r for r in records if r.application_id == app.id), key=lambda r: r.id)
            final = ("approve", "remove_signers") if app.status == t.APPROVED else ("terminate",)
            assert last.action in final, (app.id, last.action)


async def run_step(workflow, session, users, step):
    kind = step[0]
    if kind == "submit":
        return await handle(workflow, session, users[step[1]], Submit("pbt_chain", {"note": "测试"}, {}))
    if kind in ("terminate", "resubmit", "withdraw", "comment", "remind", "cc"):
        ids = list(await session.scalars(select(Application.id).order_by(Application.id)))
        if not ids:
            return None
        target = ids[step[1] % len(ids)]
        owner = await session.scalar(select(Application.applicant_id).where(Application.id == target))
        actor = next(u for u in users.values() if u.id == owner) if step[2] else users["t1301"]
        command = {"terminate": Terminate((target,), "不办了"), "resubmit": Resubmit(target),
                   "withdraw": Withdraw(target), "comment": Comment(target, "备注"), "remind": Remind(target),
                   "cc": CarbonCopy(target, ("t1301",))}[kind]
        return await handle(workflow, session, actor, command)
    tasks = list(await session.scalars(select(Task).order_by(Task.id)))
    if not tasks:
        return None
    task = tasks[step[1] % len(tasks)]
    actor = next(u for u in users.values() if u.id == task.assignee_id) if step[2] else users["t1301"]
    if kind == "approve":
        return await handle(workflow, session, actor, Approve(task.id, "同意"))
    if kind == "return":
        return await handle(workflow, session, actor, Return(task.id, "请补充"))
    if kind in ("transfer", "delegate"):
        to = "t1301" if step[3] else "t1203"  # t1203 may already hold a task at the second node
        move = Transfer if kind == "transfer" else Delegate
        return await handle(workflow, session, actor, move(task.id, to, "请办理"))
    if kind == "return_to":
        return await handle(workflow, session, actor, Return(task.id, "请重新审核", "first" if step[3] else "second"))
    if kind == "add_signers_after":
        return await handle(workflow, session, actor, AddSigners(task.id, ("t1301",) if step[3] else ("t1202",),
                                                                 "同意", when="after"))
    if kind == "remove_signers":
        return await handle(workflow, session, actor, RemoveSigners(task.id, ("t1301",) if step[3] else ("t2001",)))
    if kind == "add_signers":
        signer = "t1301" if step[3] else "t2001"
        return await handle(workflow, session, actor, AddSigners(task.id, (signer,), "请给意见"))
    return await handle(workflow, session, actor, Sign(task.id, "意见", step[3]))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(sequence=steps)
async def test_random_command_sequences_keep_the_invariants(database, sequence):
    await databases.wipe_runtime(database)
    workflow = Workflow(ZoneInfo("Asia/Shanghai"))
    async with database.write() as session:
        await import_catalog(session, CATALOG)
        users = {u.username: u for u in await session.scalars(select(User).where(User.username.in_(USERS)))}
    for step in sequence:
        async with database.read() as session:
            before = await snapshot(session)
        try:
            async with database.write() as session:
                await run_step(workflow, session, users, step)
        except AppError:
            async with database.read() as session:
                assert await snapshot(session) == before, f"failed step {step} changed the database"
        async with database.read() as session:
            await check_invariants(session)
