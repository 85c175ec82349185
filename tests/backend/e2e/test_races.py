"""Concurrent decisions: the first wins, the others get 409, nothing happens twice."""
import asyncio

from sqlalchemy import func, select

from backend.db.models import FlowRecord, OutboxMessage, Task

from tests.support.backend_api import pending_task
from tests.support.forms import SEAL, network_account, submission
from tests.support.matters import submit_or_sign

RACERS = 20


async def test_twenty_concurrent_approvals_of_one_task_make_one_transition(api, database):
    app = await api.post("/applications", "t2001", json=SEAL(), expect=201)
    task = await pending_task(api, "t0002", app["number"])
    await api.token("t0002")
    results = await asyncio.gather(*[
        api.call("POST", f"/tasks/{task['id']}/approve", "t0002", json={"opinion": f"第{i}次"})
        for i in range(RACERS)
    ])
    statuses = sorted(status for status, _ in results)
    assert statuses == [200] + [409] * (RACERS - 1)
    async with database.read() as session:
        approvals = await session.scalar(select(func.count()).select_from(FlowRecord).where(
            FlowRecord.action == "approve", FlowRecord.task_id == task["id"]))
        next_tasks = await session.scalar(select(func.count()).select_from(Task).where(Task.node_key == "seal_keeper"))
        assigned = await session.scalar(select(func.count()).select_from(OutboxMessage).where(
            OutboxMessage.event == "task_assigned"))
    assert (approvals, next_tasks, assigned) == (1, 1, 2)


async def test_concurrent_countersigns_advance_the_application_exactly_once(api, database):
    app = await api.post("/applications", "t2001", json=submission("network_account", network_account()), expect=201)
    head = await pending_task(api, "t2101", app["number"])
    await api.post(f"/tasks/{head['id']}/approve", "t2101", json={})
    one = await pending_task(api, "t1102", app["number"])
    two = await pending_task(api, "t1103", app["number"])
    results = await asyncio.gather(
        api.call("POST", f"/tasks/{one['id']}/approve", "t1102", json={}),
        api.call("POST", f"/tasks/{two['id']}/approve", "t1103", json={}),
    )
    assert [status for status, _ in results] == [200, 200]
    detail = await api.get(f"/applications/{app['id']}", "t2001")
    assert detail["status"] == "approved"
    async with database.read() as session:
        approved = await session.scalar(select(func.count()).select_from(OutboxMessage).where(
            OutboxMessage.event == "application_approved"))
    assert approved == 1


async def test_terminate_racing_an_approval_leaves_a_consistent_application(api, database):
    app = await api.post("/applications", "t2001", json=SEAL(), expect=201)
    task = await pending_task(api, "t0002", app["number"])
    await api.token("t0002")
    (approve_status, _), (terminate_status, _) = await asyncio.gather(
        api.call("POST", f"/tasks/{task['id']}/approve", "t0002", json={}),
        api.call("POST", "/applications/terminate", "t2001", json={"ids": [app["id"]]}),
    )
    assert terminate_status == 200
    detail = await api.get(f"/applications/{app['id']}", "t2001")
    assert detail["status"] == "terminated"
    async with database.read() as session:
        open_tasks = await session.scalar(select(func.count()).select_from(Task).where(
            Task.status.in_(["pending", "waiting"])))
    assert open_tasks == 0
    assert approve_status in (200, 409)


async def test_two_approvers_of_an_or_sign_node_at_once_advance_the_application_once(api, database):
    app = await submit_or_sign(api, database)
    one = await pending_task(api, "t1203", app["number"])
    two = await pending_task(api, "t1204", app["number"])
    results = await asyncio.gather(
        api.call("POST", f"/tasks/{one['id']}/approve", "t1203", json={}),
        api.call("POST", f"/tasks/{two['id']}/approve", "t1204", json={}),
    )
    assert sorted(status for status, _ in results) == [200, 409]
    assert (await api.get(f"/applications/{app['id']}", "t2001"))["status"] == "approved"
    async with database.read() as session:
        approvals = await session.scalar(select(func.count()).select_from(FlowRecord).where(
            FlowRecord.action == "approve"))
        approved = await session.scalar(select(func.count()).select_from(OutboxMessage).where(
            OutboxMessage.event == "application_approved"))
        statuses = sorted(await session.scalars(select(Task.status).where(Task.application_id == app["id"])))
    assert (approvals, approved, statuses) == (1, 1, ["cancelled", "done"])
