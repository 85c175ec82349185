"""The approval moves over HTTP on SQLite and PostgreSQL: 撤回, 备注, 转办, 委派, 退回到环节, 催办, 抄送 —
what each does, and refusals that change nothing (bad input 400, unknown 404, not yours 403,
already decided 409)."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from backend.db.models import Application, FlowRecord, OutboxMessage, Task

from tests.support.backend_api import pending_task
from tests.support.forms import staff_leave, submission
from tests.support.matters import one_node_matter

APPLICANT, HEAD, ATTENDANCE = "t2001", "t2101", "t1402"  # 张伟, 韩松涛 (音乐系负责人), 人事处考勤专员
WANG, LI = "t1203", "t1204"  # 王丽华, 李明 (教务处)


async def leave(api) -> tuple[dict, dict]:
    app = await api.post("/applications", APPLICANT, json=submission("staff_leave", staff_leave()), expect=201)
    return app, await pending_task(api, HEAD, app["number"])


async def counts(database) -> tuple[int, int, int, int]:
    """Applications' versions, tasks, records, outbox rows: what a refusal must leave alone."""
    async with database.read() as session:
        return (await session.scalar(select(func.sum(Application.version))),
                await session.scalar(select(func.count(Task.id))),
                await session.scalar(select(func.count(FlowRecord.id))),
                await session.scalar(select(func.count(OutboxMessage.id))))


async def refused(api, database, path: str, user: str, body, status: int, code: str) -> None:
    before = await counts(database)
    got, answer = await api.call("POST", path, user, json=body)
    assert (got, answer["error"]["code"]) == (status, code), answer
    assert await counts(database) == before


# ------------------------------------------------------------ 撤回

async def test_the_applicant_withdraws_and_resubmits_after_editing(api, database):
    app, task = await leave(api)
    withdrawn = await api.post(f"/applications/{app['id']}/withdraw", APPLICANT, json={"reason": "天数写错了"})
    assert withdrawn["status"] == "returned" and withdrawn["current_assignees"] == []
    assert withdrawn["records"][-1]["action_label"] == "撤回" and withdrawn["records"][-1]["opinion"] == "天数写错了"
    assert (await api.get(f"/tasks/{task['id']}", HEAD))["status"] == "cancelled"
    async with database.read() as session:
        told = list(await session.scalars(select(OutboxMessage.recipient_id).where(
            OutboxMessage.event == "application_withdrawn")))
        head = await session.scalar(select(Task.assignee_id).where(Task.id == task["id"]))
    assert told == [head]
    again = await api.post(f"/applications/{app['id']}/resubmit", APPLICANT, json={"form": staff_leave(days=1)})
    assert again["status"] == "running" and again["round"] == 2


async def test_withdrawing_is_refused_once_decided_and_for_anyone_else(api, database):
    app, task = await leave(api)
    path = f"/applications/{app['id']}/withdraw"
    await refused(api, database, path, HEAD, {}, 403, "not_applicant")
    await refused(api, database, path, WANG, {}, 404, "application_not_found")
    await refused(api, database, "/applications/999999/withdraw", APPLICANT, {}, 404, "application_not_found")
    await refused(api, database, path, APPLICANT, {"reason": 5}, 400, "opinion_invalid")
    await api.post(f"/tasks/{task['id']}/return", HEAD, json={"opinion": "请补充"})
    await refused(api, database, path, APPLICANT, {}, 409, "application_state")


# ------------------------------------------------------------ 备注

async def test_applicant_and_approver_comment_in_the_flow_records(api, database):
    app, task = await leave(api)
    await api.post(f"/applications/{app['id']}/comments", APPLICANT, json={"text": "原件明天送到"})
    detail = await api.post(f"/applications/{app['id']}/comments", HEAD, json={"text": "好的"})
    assert [(r["action_label"], r["actor"]["username"], r["opinion"]) for r in detail["records"][-2:]] == [
        ("备注", APPLICANT, "原件明天送到"), ("备注", HEAD, "好的")]
    assert detail["status"] == "running" and (await api.get(f"/tasks/{task['id']}", HEAD))["status"] == "pending"
    path = f"/applications/{app['id']}/comments"
    await refused(api, database, path, APPLICANT, {}, 400, "text_required")
    await refused(api, database, path, APPLICANT, {"text": "字" * 2001}, 400, "opinion_too_long")
    await refused(api, database, path, WANG, {"text": "路过"}, 404, "application_not_found")
    await api.post("/applications/terminate", APPLICANT, json={"ids": [app["id"]]})
    await refused(api, database, path, APPLICANT, {"text": "晚了"}, 409, "application_state")


# ------------------------------------------------------------ 转办 / 委派

async def test_a_transferred_task_is_the_new_holders_and_shows_as_transferred_in_done(api, database):
    app, task = await leave(api)
    mine = await api.post(f"/tasks/{task['id']}/transfer", HEAD, json={"to": LI, "opinion": "请李明处理"})
    assert (mine["status"], mine["decision"], mine["decision_label"], mine["actions"]) == (
        "done", "transfer", "转办", [])
    done = (await api.get("/tasks?status=done", HEAD))["items"]
    assert [(x["id"], x["decision_label"]) for x in done] == [(task["id"], "转办")]
    theirs = await pending_task(api, LI, app["number"])
    assert theirs["kind"] == "approval" and theirs["node"]["key"] == "dept_head"
    await api.post(f"/tasks/{theirs['id']}/approve", LI, json={"opinion": "同意"})
    detail = await api.get(f"/applications/{app['id']}", APPLICANT)
    assert detail["current_node"]["key"] == "attendance"
    assert [r["action_label"] for r in detail["records"]] == ["提交申请", "转办给李明", "同意"]


async def test_a_delegated_task_comes_back_to_decide(api, database):
    app, task = await leave(api)
    waiting = await api.post(f"/tasks/{task['id']}/delegate", HEAD, json={"to": WANG, "opinion": "请先看看"})
    assert waiting["status"] == "waiting" and [(s["username"], s["kind"]) for s in waiting["signers"]] == [
        (WANG, "delegate")]
    theirs = await pending_task(api, WANG, app["number"])
    assert (await api.get(f"/tasks/{theirs['id']}", WANG))["actions"] == ["sign"]
    await refused(api, database, f"/tasks/{theirs['id']}/approve", WANG, {}, 409, "task_state")
    await api.post(f"/tasks/{theirs['id']}/sign", WANG, json={"opinion": "情况属实", "agree": True})
    back = await api.get(f"/tasks/{task['id']}", HEAD)
    assert back["status"] == "pending" and "approve" in back["actions"]
    detail = await api.get(f"/applications/{app['id']}", APPLICANT)
    assert [r["action_label"] for r in detail["records"]][-2:] == ["委派给王丽华", "委派意见:同意"]


@pytest.mark.parametrize("move", ["transfer", "delegate"])
async def test_handing_a_task_over_refuses_bad_input_and_others_tasks(api, database, move):
    app, task = await leave(api)
    path = f"/tasks/{task['id']}/{move}"
    await refused(api, database, path, HEAD, {}, 400, "to_required")
    await refused(api, database, path, HEAD, {"to": "nobody"}, 400, "user_not_found")
    await refused(api, database, path, HEAD, {"to": APPLICANT}, 400, "to_is_applicant")
    await refused(api, database, path, HEAD, {"to": HEAD}, 400, "to_is_self")
    await refused(api, database, path, WANG, {"to": LI}, 404, "task_not_found")
    await refused(api, database, f"/tasks/999999/{move}", HEAD, {"to": LI}, 404, "task_not_found")
    status, _ = await api.call("POST", path, HEAD, data=b"{", headers={"Content-Type": "application/json"})
    assert status == 400
    await api.post(f"/tasks/{task['id']}/approve", HEAD, json={})
    await refused(api, database, path, HEAD, {"to": LI}, 409, "task_state")


# ------------------------------------------------------------ 退回到环节

async def test_returning_to_a_passed_node_runs_it_again(api, database):
    app, task = await leave(api)
    await api.post(f"/tasks/{task['id']}/approve", HEAD, json={})
    second = await pending_task(api, ATTENDANCE, app["number"])
    detail = await api.get(f"/tasks/{second['id']}", ATTENDANCE)
    assert detail["return_nodes"] == [{"key": "dept_head", "name": "部门负责人审批"}]
    path = f"/tasks/{second['id']}/return"
    await refused(api, database, path, ATTENDANCE, {"opinion": "x", "to_node": "attendance"}, 400, "node_not_passed")
    await refused(api, database, path, ATTENDANCE, {"opinion": "x", "to_node": 1}, 400, "to_node_invalid")
    await api.post(path, ATTENDANCE, json={"opinion": "请部门负责人确认天数", "to_node": "dept_head"})
    shown = await api.get(f"/applications/{app['id']}", APPLICANT)
    assert shown["status"] == "running" and shown["current_node"]["key"] == "dept_head"
    assert shown["records"][-1]["action_label"] == "退回到「部门负责人审批」"
    again = await pending_task(api, HEAD, app["number"])
    await api.post(f"/tasks/{again['id']}/approve", HEAD, json={})
    assert (await pending_task(api, ATTENDANCE, app["number"]))["id"] != second["id"]


# ------------------------------------------------------------ 催办

async def test_reminding_at_most_once_per_node_in_four_hours(api, database, clock):
    app, task = await leave(api)
    path = f"/applications/{app['id']}/remind"
    detail = await api.post(path, APPLICANT)
    assert detail["records"][-1]["action_label"] == "催办"
    async with database.read() as session:
        reminded = list(await session.execute(select(OutboxMessage.recipient_id, OutboxMessage.task_id).where(
            OutboxMessage.event == "task_reminded")))
    assert [task_id for _, task_id in reminded] == [task["id"]]
    clock.advance(hours=3)
    before = await counts(database)
    status, answer = await api.call("POST", path, APPLICANT)
    assert status == 409 and answer["error"]["code"] == "remind_too_soon" and "4 小时" in answer["error"]["message"]
    assert await counts(database) == before
    await refused(api, database, path, HEAD, None, 403, "not_applicant")
    clock.advance(hours=1)
    await api.post(path, APPLICANT)


# ------------------------------------------------------------ 抄送

async def test_copied_people_read_the_application_in_their_cc_list_but_cannot_act(api, database):
    body = {**submission("staff_leave", staff_leave()), "cc": [WANG]}
    app = await api.post("/applications", APPLICANT, json=body, expect=201)
    assert app["cc"] == [{"username": WANG, "name": "王丽华"}] and app["records"][-1]["action_label"] == "抄送"
    task = await pending_task(api, HEAD, app["number"])
    await api.post(f"/tasks/{task['id']}/approve", HEAD, json={"cc": [LI, WANG]})
    listing = await api.get("/applications?cc=1", LI)
    assert [a["number"] for a in listing["items"]] == [app["number"]]
    assert (await api.get("/applications", LI))["items"] == []  # 我的申请 stays their own
    detail = await api.get(f"/applications/{app['id']}", LI)
    assert [p["username"] for p in detail["cc"]] == [WANG, LI]  # copied once each
    await refused(api, database, f"/applications/{app['id']}/comments", LI, {"text": "看看"}, 404,
                  "application_not_found")
    async with database.read() as session:
        copied = await session.scalar(select(func.count()).select_from(OutboxMessage).where(
            OutboxMessage.event == "application_cc"))
    assert copied == 3  # 王丽华 at submit, 李明 and 王丽华 again at the approval: told each time


async def test_a_node_copies_its_configured_people_when_passed(api, database):
    await one_node_matter(database, "test_cc", "抄送测试", {
        "key": "desk", "name": "教务处审核", "mode": "any", "approvers": {"rule": "users", "users": [WANG]},
        "cc": {"rule": "users", "users": [LI]}})
    app = await api.post("/applications", APPLICANT, json=submission("test_cc", {"note": "x"}), expect=201)
    assert await api.get("/applications?cc=1", LI) == {"items": [], "has_more": False, "offset": 0, "limit": 20}
    task = await pending_task(api, WANG, app["number"])
    await api.post(f"/tasks/{task['id']}/approve", WANG, json={})
    assert [a["status"] for a in (await api.get("/applications?cc=1", LI))["items"]] == ["approved"]


async def test_cc_refusals_change_nothing(api, database):
    app, task = await leave(api)
    path = f"/tasks/{task['id']}/approve"
    await refused(api, database, path, HEAD, {"cc": "t1204"}, 400, "cc_invalid")
    await refused(api, database, path, HEAD, {"cc": ["nobody"]}, 400, "user_not_found")
    status, answer = await api.call("GET", "/applications?cc=2", LI)
    assert status == 400 and answer["error"]["code"] == "bad_query"


# ------------------------------------------------------------ 后加签 / 减签

async def test_after_signers_approve_after_the_approver_and_can_be_removed(api, database):
    app, task = await leave(api)
    mine = await api.post(f"/tasks/{task['id']}/add-signers", HEAD, json={"users": [WANG, LI], "when": "after"})
    assert (mine["status"], mine["decision"], mine["removable_signers"]) == ("done", "approve", [WANG, LI])
    theirs = await pending_task(api, WANG, app["number"])
    assert theirs["kind"] == "approval"
    await api.post(f"/tasks/{theirs['id']}/approve", WANG, json={})
    assert (await api.get(f"/applications/{app['id']}", APPLICANT))["current_node"]["key"] == "dept_head"
    path = f"/tasks/{task['id']}/remove-signers"
    await refused(api, database, path, HEAD, {"users": [WANG]}, 409, "signer_decided")
    await refused(api, database, path, HEAD, {"users": [ATTENDANCE]}, 400, "not_a_signer")
    await refused(api, database, path, HEAD, {"users": []}, 400, "signers_required")
    await refused(api, database, path, WANG, {"users": [LI]}, 404, "task_not_found")
    await api.post(path, HEAD, json={"users": [LI]})
    detail = await api.get(f"/applications/{app['id']}", APPLICANT)
    assert detail["current_node"]["key"] == "attendance"  # the last after-signer removed: the node is passed
    assert [r["action_label"] for r in detail["records"]][1:] == ["同意并后加签:王丽华、李明", "同意", "减签:李明"]


async def test_removing_the_last_before_signer_gives_the_decision_back(api, database):
    app, task = await leave(api)
    await api.post(f"/tasks/{task['id']}/add-signers", HEAD, json={"users": [WANG]})
    back = await api.post(f"/tasks/{task['id']}/remove-signers", HEAD, json={"users": [WANG]})
    assert back["status"] == "pending" and "approve" in back["actions"] and back["removable_signers"] == []
    await refused(api, database, f"/tasks/{task['id']}/add-signers", HEAD, {"users": [WANG], "when": "later"}, 400,
                  "when_invalid")


async def test_the_applicant_copies_someone_after_submitting(api, database):
    app, _ = await leave(api)
    detail = await api.post(f"/applications/{app['id']}/cc", APPLICANT, json={"users": [LI]})
    assert [p["username"] for p in detail["cc"]] == [LI]
    path = f"/applications/{app['id']}/cc"
    await refused(api, database, path, APPLICANT, {"users": []}, 400, "cc_invalid")
    await refused(api, database, path, APPLICANT, {"users": [APPLICANT]}, 400, "cc_nobody")
    await refused(api, database, path, WANG, {"users": [LI]}, 404, "application_not_found")
