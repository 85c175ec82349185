"""加签: the approver asks others for opinions, then decides."""
from tests.support.backend_api import pending_task
from tests.support.forms import staff_leave, submission


async def leave_waiting_on_signers(api):
    app = await api.post("/applications", "t2001", json=submission("staff_leave", staff_leave()), expect=201)
    task = await pending_task(api, "t2101", app["number"])
    waiting = await api.post(f"/tasks/{task['id']}/add-signers", "t2101",
                             json={"users": ["t1203", "t1204"], "opinion": "请教务处给意见"})
    return app, task, waiting


async def test_the_approver_waits_for_every_signer_then_decides(api):
    app, task, waiting = await leave_waiting_on_signers(api)
    assert waiting["status"] == "waiting" and waiting["actions"] == []
    assert [(s["username"], s["status"]) for s in waiting["signers"]] == [("t1203", "pending"), ("t1204", "pending")]
    status, body = await api.call("POST", f"/tasks/{task['id']}/approve", "t2101", json={})
    assert status == 409 and "等待加签" in body["error"]["message"]

    first = await pending_task(api, "t1203", app["number"])
    assert first["kind"] == "signer"
    signed = await api.post(f"/tasks/{first['id']}/sign", "t1203", json={"opinion": "情况属实", "agree": True})
    assert signed["decision"] == "agree"
    assert (await api.get(f"/tasks/{task['id']}", "t2101"))["status"] == "waiting"  # one signer still owes
    second = await pending_task(api, "t1204", app["number"])
    await api.post(f"/tasks/{second['id']}/sign", "t1204", json={"opinion": "建议缩短假期", "agree": False})

    back = await api.get(f"/tasks/{task['id']}", "t2101")
    assert back["status"] == "pending"
    assert back["actions"] == ["add_signers", "approve", "delegate", "return", "transfer"]
    assert {(s["username"], s["decision"], s["opinion"]) for s in back["signers"]} == {
        ("t1203", "agree", "情况属实"), ("t1204", "disagree", "建议缩短假期")}
    await api.post(f"/tasks/{task['id']}/approve", "t2101", json={"opinion": "同意"})
    detail = await api.get(f"/applications/{app['id']}", "t2001")
    assert detail["current_node"]["key"] == "attendance"
    assert [(r["action"], r["actor"]["username"]) for r in detail["records"]] == [
        ("submit", "t2001"), ("add_signers", "t2101"), ("sign", "t1203"), ("sign", "t1204"), ("approve", "t2101")]
    assert detail["records"][1]["detail"]["names"] == ["王丽华", "李明"]
    assert detail["records"][3]["action_label"] == "加签意见:不同意"


async def test_signers_can_read_the_application_but_only_give_opinions(api):
    app, _, _ = await leave_waiting_on_signers(api)
    signer_task = await pending_task(api, "t1203", app["number"])
    assert signer_task["kind"] == "signer"
    detail = await api.get(f"/tasks/{signer_task['id']}", "t1203")
    assert detail["actions"] == ["sign"] and detail["application"]["form"]["reason"]
    for move, body in [("approve", {}), ("return", {"opinion": "x"})]:
        status, error = await api.call("POST", f"/tasks/{signer_task['id']}/{move}", "t1203", json=body)
        assert status == 409 and "加签人员只能给出意见" in error["error"]["message"]
    status, error = await api.call("POST", f"/tasks/{signer_task['id']}/add-signers", "t1203",
                                   json={"users": ["t1202"]})
    assert status == 400 and error["error"]["code"] == "nested_signers"


async def test_a_signer_opinion_needs_text_and_a_yes_or_no(api):
    app, _, _ = await leave_waiting_on_signers(api)
    signer_task = await pending_task(api, "t1203", app["number"])
    for body, code in [({"agree": True}, "opinion_required"), ({"opinion": "好", "agree": "yes"}, "agree_required")]:
        status, error = await api.call("POST", f"/tasks/{signer_task['id']}/sign", "t1203", json=body)
        assert (status, error["error"]["code"]) == (400, code)


async def test_who_may_be_added_as_a_signer(api):
    app = await api.post("/applications", "t2001", json=submission("staff_leave", staff_leave()), expect=201)
    task = await pending_task(api, "t2101", app["number"])
    for users, code in [(["t2001"], "signer_is_applicant"), (["t2101"], "signer_is_self"),
                        (["ghost"], "user_not_found"), ([], "signers_required"), ("t1203", "signers_required"),
                        ([f"u{i}" for i in range(11)], "too_many_signers")]:
        status, body = await api.call("POST", f"/tasks/{task['id']}/add-signers", "t2101", json={"users": users})
        assert (status, body["error"]["code"]) == (400, code), users
    assert (await api.get(f"/tasks/{task['id']}", "t2101"))["status"] == "pending"
    assert (await api.get("/tasks", "t1203"))["items"] == []


async def test_returning_while_signers_are_asked_cancels_their_tasks(api):
    app, task, _ = await leave_waiting_on_signers(api)
    await api.post("/applications/terminate", "t2001", json={"ids": [app["id"]]})
    assert (await api.get("/tasks", "t1203"))["items"] == []
    assert (await api.get(f"/tasks/{task['id']}", "t2101"))["status"] == "cancelled"
