"""Outbox rows written with the tasks they announce name exactly those tasks: each new
approver's task_assigned, each added signer's signer_requested (several at once)."""
from sqlalchemy import select

from backend.db.models import OutboxMessage, Task, User

from tests.support.backend_api import pending_task
from tests.support.forms import network_account, staff_leave, submission


async def announced(database, application_id, event):
    """(recipient, task's assignee, task's node) for each outbox row of ``event``, in id order."""
    async with database.read() as session:
        rows = await session.execute(
            select(User.username, Task.assignee_id == OutboxMessage.recipient_id, Task.node_key)
            .join(OutboxMessage, OutboxMessage.recipient_id == User.id)
            .join(Task, Task.id == OutboxMessage.task_id)
            .where(OutboxMessage.application_id == application_id, OutboxMessage.event == event)
            .order_by(OutboxMessage.id))
        return [tuple(row) for row in rows]


async def test_every_new_countersigner_is_told_about_their_own_task(api, database):
    app = await api.post("/applications", "t2001", json=submission("network_account", network_account()), expect=201)
    head = await pending_task(api, "t2101", app["number"])
    await api.post(f"/tasks/{head['id']}/approve", "t2101", json={})
    assert await announced(database, app["id"], "task_assigned") == [
        ("t2101", True, "dept_head"), ("t1102", True, "netadmin"), ("t1103", True, "netadmin")]


async def test_every_added_signer_is_told_about_their_own_task(api, database):
    app = await api.post("/applications", "t2001", json=submission("staff_leave", staff_leave()), expect=201)
    head = await pending_task(api, "t2101", app["number"])
    answer = await api.post(f"/tasks/{head['id']}/add-signers", "t2101", json={"users": ["t1202", "t1203", "t1204"]})
    assert await announced(database, app["id"], "signer_requested") == [
        ("t1202", True, "dept_head"), ("t1203", True, "dept_head"), ("t1204", True, "dept_head")]
    async with database.read() as session:
        told = list(await session.scalars(
            select(OutboxMessage.task_id).where(OutboxMessage.event == "signer_requested").order_by(OutboxMessage.id)))
    assert told == [signer["task_id"] for signer in answer["signers"]]
