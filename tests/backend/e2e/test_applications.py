"""Submitting, listing, reading, resubmitting and terminating applications over HTTP."""
import re

import pytest
from sqlalchemy import func, select

from backend.db.models import Application, OutboxMessage, Task

from tests.support.backend_api import pending_task
from tests.support.dates import college_today, day
from tests.support.forms import SEAL, network_account, seal_usage, staff_leave, submission
from tests.support.matters import one_node_matter, submit_or_sign


async def count(database, model, *where):
    async with database.read() as session:
        return await session.scalar(select(func.count()).select_from(model).where(*where))


async def test_submitting_creates_a_numbered_application_for_the_chosen_approver(api, database):
    created = await api.post("/applications", "t2001", json=SEAL(), expect=201)
    assert re.fullmatch(rf"SW{college_today():%Y%m%d}-0001", created["number"])
    assert created["status"] == "running" and created["current_node"]["key"] == "leader"
    assert created["form"] == seal_usage()
    assert [p["username"] for p in created["current_assignees"]] == ["t0002"]
    second = await api.post("/applications", "t2001", json=SEAL(), expect=201)
    assert second["number"].endswith("-0002")
    # Only the chosen leader got a task, and was told about it in the same transaction.
    assert [t["number"] for t in (await api.get("/tasks", "t0002"))["items"]] == [second["number"], created["number"]]
    assert (await api.get("/tasks", "t0001"))["items"] == []
    assert await count(database, OutboxMessage, OutboxMessage.event == "task_assigned") == 2


async def test_a_full_approval_path_ends_approved_with_its_records(api, database):
    app = await api.post("/applications", "t2001", json=SEAL(), expect=201)
    first = await pending_task(api, "t0002", app["number"])
    await api.post(f"/tasks/{first['id']}/approve", "t0002", json={"opinion": "同意用印"})
    second = await pending_task(api, "t1002", app["number"])
    assert second["node"]["key"] == "seal_keeper"
    done = await api.post(f"/tasks/{second['id']}/approve", "t1002", json={})
    assert done["status"] == "done" and done["application_status"] == "approved"
    detail = await api.get(f"/applications/{app['id']}", "t2001")
    assert detail["status"] == "approved" and detail["finished_at"]
    assert [n["state"] for n in detail["nodes"]] == ["done", "done"]
    assert [(r["action"], r["actor"]["username"], r["opinion"]) for r in detail["records"]] == [
        ("submit", "t2001", None), ("approve", "t0002", "同意用印"), ("approve", "t1002", None)]
    events = await _events(database, app["id"])
    assert events == ["task_assigned", "application_progressed", "task_assigned", "application_approved"]


async def _events(database, application_id):
    async with database.read() as session:
        rows = await session.scalars(
            select(OutboxMessage.event).where(OutboxMessage.application_id == application_id)
            .order_by(OutboxMessage.id))
        return list(rows)


async def test_a_countersign_node_needs_every_approver(api):
    app = await api.post("/applications", "t2001", json=submission("network_account", network_account()), expect=201)
    head = await pending_task(api, "t2101", app["number"])
    await api.post(f"/tasks/{head['id']}/approve", "t2101", json={"opinion": "同意"})
    first = await pending_task(api, "t1102", app["number"])
    await api.post(f"/tasks/{first['id']}/approve", "t1102", json={})
    still = await api.get(f"/applications/{app['id']}", "t2001")
    assert still["status"] == "running" and still["current_node"]["key"] == "netadmin"
    assert [p["username"] for p in still["current_assignees"]] == ["t1103"]
    second = await pending_task(api, "t1103", app["number"])
    await api.post(f"/tasks/{second['id']}/approve", "t1103", json={})
    assert (await api.get(f"/applications/{app['id']}", "t2001"))["status"] == "approved"


async def test_the_first_approval_of_an_any_node_cancels_the_others(api, database):
    app = await submit_or_sign(api, database)
    mine = await pending_task(api, "t1203", app["number"])
    other = await pending_task(api, "t1204", app["number"])
    await api.post(f"/tasks/{mine['id']}/approve", "t1203", json={})
    status, body = await api.call("POST", f"/tasks/{other['id']}/approve", "t1204", json={})
    assert status == 409 and body["error"]["code"] == "task_state" and "已被取消" in body["error"]["message"]
    assert (await api.get(f"/applications/{app['id']}", "t2001"))["status"] == "approved"
    assert (await api.get(f"/tasks/{other['id']}", "t1204"))["status"] == "cancelled"


async def test_a_returned_application_goes_back_to_the_applicant_and_can_be_resubmitted(api, database):
    app = await api.post("/applications", "t2001", json=submission("staff_leave", staff_leave()), expect=201)
    task = await pending_task(api, "t2101", app["number"])
    returned = await api.post(f"/tasks/{task['id']}/return", "t2101", json={"opinion": "请补充病假证明"})
    assert returned["application_status"] == "returned" and returned["decision"] == "return"
    detail = await api.get(f"/applications/{app['id']}", "t2001")
    assert detail["status"] == "returned" and detail["current_node"] is None
    assert detail["nodes"][0]["state"] == "returned"
    assert detail["records"][-1]["action"] == "return" and detail["records"][-1]["opinion"] == "请补充病假证明"
    assert "application_returned" in await _events(database, app["id"])
    # The applicant fixes the form and resubmits: the process starts again.
    again = await api.post(f"/applications/{app['id']}/resubmit", "t2001",
                           json={"form": staff_leave(leave_type="病假", proof="诊断证明.jpg")})
    assert again["status"] == "running" and again["round"] == 2 and again["form"]["leave_type"] == "病假"
    assert again["current_node"]["key"] == "dept_head"
    assert (await pending_task(api, "t2101", app["number"]))["id"] != task["id"]
    assert [r["action"] for r in again["records"]] == ["submit", "return", "resubmit"]


async def test_only_a_returned_application_can_be_resubmitted_and_only_by_its_applicant(api):
    app = await api.post("/applications", "t2001", json=SEAL(), expect=201)
    status, body = await api.call("POST", f"/applications/{app['id']}/resubmit", "t2001", json={})
    assert status == 409 and body["error"]["code"] == "application_state"
    # Its approver sees it but may not resubmit it; anyone else is told it does not exist.
    status, body = await api.call("POST", f"/applications/{app['id']}/resubmit", "t0002", json={})
    assert status == 403 and body["error"]["code"] == "not_applicant"
    status, body = await api.call("POST", f"/applications/{app['id']}/resubmit", "t2103", json={})
    assert status == 404 and body["error"]["code"] == "application_not_found"


async def test_an_applicant_terminates_several_applications_at_once(api, database):
    one = await api.post("/applications", "t2001", json=SEAL(), expect=201)
    two = await api.post("/applications", "t2001", json=submission("staff_leave", staff_leave()), expect=201)
    result = await api.post("/applications/terminate", "t2001", json={"ids": [one["id"], two["id"]], "reason": "不办了"})
    assert [a["status"] for a in result["items"]] == ["terminated", "terminated"]
    assert await count(database, Task, Task.status.in_(["pending", "waiting"])) == 0
    assert (await api.get("/tasks", "t0002"))["items"] == []
    events = await _events(database, one["id"])
    assert events[-1] == "application_terminated"


async def test_terminate_is_all_or_nothing(api, database):
    running = await api.post("/applications", "t2001", json=SEAL(), expect=201)
    finished = await api.post("/applications", "t2001", json=SEAL(), expect=201)
    await api.post("/applications/terminate", "t2001", json={"ids": [finished["id"]]})
    status, body = await api.call("POST", "/applications/terminate", "t2001",
                                  json={"ids": [running["id"], finished["id"]]})
    assert status == 409 and body["error"]["code"] == "application_state"
    assert (await api.get(f"/applications/{running['id']}", "t2001"))["status"] == "running"
    someone_elses = await api.post("/applications", "t2103", json=SEAL(), expect=201)
    status, body = await api.call("POST", "/applications/terminate", "t2001",
                                  json={"ids": [running["id"], someone_elses["id"]]})
    # Someone else's application is not found, exactly like one that does not exist.
    assert status == 404 and body["error"]["code"] == "application_not_found"
    missing = await api.call("POST", "/applications/terminate", "t2001", json={"ids": [running["id"], 999_999]})
    assert missing == (404, {"error": {"code": "application_not_found", "message": "没有找到申请 999999"}})
    assert (await api.get(f"/applications/{running['id']}", "t2001"))["status"] == "running"


async def test_lists_show_only_my_applications_filtered_by_status(api):
    mine = await api.post("/applications", "t2001", json=SEAL(), expect=201)
    await api.post("/applications", "t2103", json=SEAL(), expect=201)
    other = await api.post("/applications", "t2001", json=SEAL(), expect=201)
    await api.post("/applications/terminate", "t2001", json={"ids": [other["id"]]})
    listed = await api.get("/applications?mine=1", "t2001")
    assert [a["id"] for a in listed["items"]] == [other["id"], mine["id"]] and listed["has_more"] is False
    running = await api.get("/applications?status=running", "t2001")
    assert [a["id"] for a in running["items"]] == [mine["id"]]
    assert running["items"][0]["current_assignees"] == [{"username": "t0002", "name": "沈立群"}]
    page = await api.get("/applications?limit=1", "t2001")
    assert len(page["items"]) == 1 and page["has_more"] is True


async def test_other_peoples_applications_are_not_found(api):
    app = await api.post("/applications", "t2001", json=SEAL(), expect=201)
    status, body = await api.call("GET", f"/applications/{app['id']}", "t2103")
    assert status == 404 and body["error"]["code"] == "application_not_found"
    # The approver holding a task on it may read it.
    assert (await api.get(f"/applications/{app['id']}", "t0002"))["number"] == app["number"]


async def test_an_approver_must_be_chosen_from_the_candidates(api, database):
    status, body = await api.call("POST", "/applications", "t2001", json=submission("seal_usage", seal_usage()))
    assert status == 400 and body["error"]["code"] == "approver_required"
    status, body = await api.call("POST", "/applications", "t2001",
                                  json=submission("seal_usage", seal_usage(), {"leader": "t1002"}))
    assert status == 400 and body["error"]["code"] == "approver_invalid"
    status, body = await api.call("POST", "/applications", "t2001",
                                  json=submission("seal_usage", seal_usage(), {"leader": "t0002", "x": "t1"}))
    assert status == 400 and body["error"]["code"] == "approvers_invalid"
    assert await count(database, Application) == 0 and await count(database, Task) == 0


@pytest.mark.parametrize("department", ["jwc", "no_such_department"])
async def test_a_node_nobody_can_approve_refuses_the_submission_and_writes_nothing(api, database, department):
    # Nobody in 教务处 keeps the seals; no department has the code no_such_department.
    await one_node_matter(database, "test_nobody", "无人审核测试", {
        "key": "desk", "name": "用印审核", "approvers": {"rule": "role", "role": "印章管理员", "department": department}})
    status, body = await api.call("POST", "/applications", "t2001", json=submission("test_nobody", {"note": "x"}))
    assert (status, body["error"]["code"]) == (400, "no_approver")
    assert await count(database, Application) == 0 and await count(database, OutboxMessage) == 0


async def test_a_bad_form_is_refused_field_by_field_and_nothing_is_written(api, database):
    status, body = await api.call("POST", "/applications", "t2001", json=SEAL(copies=0, use_date=day(-3)))
    assert status == 400 and body["error"]["code"] == "form_invalid"
    assert set(body["error"]["details"]["fields"]) == {"copies", "use_date"}
    status, body = await api.call("POST", "/applications", "t2001",
                                  json=submission("staff_leave", staff_leave(handover="nobody")))
    assert status == 400 and body["error"]["details"]["fields"] == {"handover": "没有找到该人员"}
    status, body = await api.call("POST", "/applications", "t2001", json=submission("nope", {}))
    assert status == 404 and body["error"]["code"] == "matter_not_found"
    assert await count(database, Application) == 0
    assert await count(database, OutboxMessage) == 0
