"""The approval moves raced on SQLite and PostgreSQL: of two conflicting moves exactly one
wins, the other gets 409, and the records agree with the states."""
from __future__ import annotations

import asyncio

from sqlalchemy import func, select

from backend.db.models import ApplicationCc, FlowRecord, Task

from tests.support.backend_api import pending_task
from tests.support.forms import network_account, staff_leave, submission

APPLICANT, HEAD, ATTENDANCE, WANG, LI = "t2001", "t2101", "t1402", "t1203", "t1204"
RACERS = 8


async def leave(api) -> tuple[dict, dict]:
    app = await api.post("/applications", APPLICANT, json=submission("staff_leave", staff_leave()), expect=201)
    return app, await pending_task(api, HEAD, app["number"])


async def recorded(database, action: str) -> int:
    async with database.read() as session:
        return await session.scalar(select(func.count()).select_from(FlowRecord).where(FlowRecord.action == action))


async def open_tasks(database) -> list[tuple[str, str]]:
    async with database.read() as session:
        return [(node, kind) for node, kind in await session.execute(
            select(Task.node_key, Task.kind).where(Task.status.in_(["pending", "waiting"])).order_by(Task.id))]


async def race(api, *calls: tuple[str, str, str, object]) -> list[int]:
    for _, _, user, _ in calls:
        await api.token(user)  # logged in before the race, so the moves themselves race
    results = await asyncio.gather(*[api.call(method, path, user, json=body) for method, path, user, body in calls])
    return [status for status, _ in results]


async def test_concurrent_withdrawals_withdraw_once(api, database):
    app, _ = await leave(api)
    statuses = await race(api, *[("POST", f"/applications/{app['id']}/withdraw", APPLICANT, {})] * RACERS)
    assert sorted(statuses) == [200] + [409] * (RACERS - 1)
    assert await recorded(database, "withdraw") == 1 and await open_tasks(database) == []


async def test_a_withdrawal_racing_an_approval_leaves_one_consistent_outcome(api, database):
    app, task = await leave(api)
    withdraw, approve = await race(api, ("POST", f"/applications/{app['id']}/withdraw", APPLICANT, {}),
                                   ("POST", f"/tasks/{task['id']}/approve", HEAD, {}))
    detail = await api.get(f"/applications/{app['id']}", APPLICANT)
    if approve == 409:  # withdrawn first: the approval found its task cancelled
        assert withdraw == 200 and await recorded(database, "approve") == 0
    else:  # approved first: the next node had no decision yet, so withdrawing it is allowed too
        assert approve == 200 and await recorded(database, "approve") == 1
    assert (detail["status"] == "returned") == (withdraw == 200)
    assert (await open_tasks(database) == []) == (withdraw == 200)


async def test_a_transfer_racing_an_approval_of_the_same_task(api, database):
    app, task = await leave(api)
    statuses = await race(api, ("POST", f"/tasks/{task['id']}/transfer", HEAD, {"to": LI}),
                          ("POST", f"/tasks/{task['id']}/approve", HEAD, {}))
    assert sorted(statuses) == [200, 409]
    transferred = statuses[0] == 200
    assert (await recorded(database, "transfer"), await recorded(database, "approve")) == (
        (1, 0) if transferred else (0, 1))
    assert await open_tasks(database) == ([("dept_head", "approval")] if transferred else [("attendance", "approval")])


async def test_concurrent_transfers_of_one_task_hand_it_over_once(api, database):
    app, task = await leave(api)
    statuses = await race(api, *[("POST", f"/tasks/{task['id']}/transfer", HEAD, {"to": to})
                                 for to in (LI, WANG) * (RACERS // 2)])
    assert sorted(statuses) == [200] + [409] * (RACERS - 1)
    assert await recorded(database, "transfer") == 1 and await open_tasks(database) == [("dept_head", "approval")]


async def test_a_delegation_racing_a_return(api, database):
    app, task = await leave(api)
    statuses = await race(api, ("POST", f"/tasks/{task['id']}/delegate", HEAD, {"to": WANG}),
                          ("POST", f"/tasks/{task['id']}/return", HEAD, {"opinion": "请补充"}))
    assert sorted(statuses) == [200, 409]
    if statuses[0] == 200:
        assert await open_tasks(database) == [("dept_head", "approval"), ("dept_head", "delegate")]
        assert await recorded(database, "return") == 0
    else:
        assert await open_tasks(database) == [] and await recorded(database, "delegate") == 0


async def test_concurrent_returns_to_a_node_send_it_back_once(api, database):
    app, task = await leave(api)
    await api.post(f"/tasks/{task['id']}/approve", HEAD, json={})
    second = await pending_task(api, ATTENDANCE, app["number"])
    body = {"opinion": "请再核实", "to_node": "dept_head"}
    statuses = await race(api, *[("POST", f"/tasks/{second['id']}/return", ATTENDANCE, body)] * RACERS)
    assert sorted(statuses) == [200] + [409] * (RACERS - 1)
    assert await recorded(database, "return") == 1 and await open_tasks(database) == [("dept_head", "approval")]


async def test_concurrent_reminders_remind_once(api, database):
    app, _ = await leave(api)
    statuses = await race(api, *[("POST", f"/applications/{app['id']}/remind", APPLICANT, None)] * RACERS)
    assert sorted(statuses) == [200] + [409] * (RACERS - 1)
    assert await recorded(database, "remind") == 1


async def test_a_comment_racing_a_termination_is_recorded_before_it_or_refused(api, database):
    app, _ = await leave(api)
    comment, terminate = await race(api, ("POST", f"/applications/{app['id']}/comments", APPLICANT, {"text": "补充"}),
                                    ("POST", "/applications/terminate", APPLICANT, {"ids": [app["id"]]}))
    assert terminate == 200 and comment in (200, 409)
    records = (await api.get(f"/applications/{app['id']}", APPLICANT))["records"]
    assert records[-1]["action"] == "terminate"
    assert [r["action"] for r in records].count("comment") == (1 if comment == 200 else 0)


async def test_removing_a_signer_racing_their_opinion(api, database):
    app, task = await leave(api)
    await api.post(f"/tasks/{task['id']}/add-signers", HEAD, json={"users": [WANG]})
    theirs = await pending_task(api, WANG, app["number"])
    remove, sign = await race(api, ("POST", f"/tasks/{task['id']}/remove-signers", HEAD, {"users": [WANG]}),
                              ("POST", f"/tasks/{theirs['id']}/sign", WANG, {"opinion": "同意", "agree": True}))
    assert sorted([remove, sign]) == [200, 409]
    assert (await recorded(database, "remove_signers"), await recorded(database, "sign")) == (
        (1, 0) if remove == 200 else (0, 1))
    assert await open_tasks(database) == [("dept_head", "approval")]  # the decision is the approver's again


async def test_after_signing_racing_an_approval_of_the_same_task(api, database):
    app, task = await leave(api)
    statuses = await race(api, ("POST", f"/tasks/{task['id']}/add-signers", HEAD, {"users": [LI], "when": "after"}),
                          ("POST", f"/tasks/{task['id']}/approve", HEAD, {}))
    assert sorted(statuses) == [200, 409]
    expected = [("dept_head", "approval")] if statuses[0] == 200 else [("attendance", "approval")]
    assert await open_tasks(database) == expected


async def test_two_countersigners_copying_the_same_person_at_once_copy_them_once(api, database):
    app = await api.post("/applications", APPLICANT, json=submission("network_account", network_account()),
                         expect=201)
    head = await pending_task(api, HEAD, app["number"])
    await api.post(f"/tasks/{head['id']}/approve", HEAD, json={})
    one, two = await pending_task(api, "t1102", app["number"]), await pending_task(api, "t1103", app["number"])
    statuses = await race(api, ("POST", f"/tasks/{one['id']}/approve", "t1102", {"cc": [LI]}),
                          ("POST", f"/tasks/{two['id']}/approve", "t1103", {"cc": [LI]}))
    assert statuses == [200, 200]
    async with database.read() as session:
        rows = await session.scalar(select(func.count()).select_from(ApplicationCc))
    assert rows == 1 and len((await api.get("/applications?cc=1", LI))["items"]) == 1
