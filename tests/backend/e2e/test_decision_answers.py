"""A decision's answer is built from the rows the command holds; it must be exactly the
task as anyone reads it back afterwards (GET /tasks/{id} without its application)."""
from tests.support.backend_api import pending_task
from tests.support.forms import network_account, staff_leave, submission


async def assert_answer_is_the_task_read_back(api, username, answer):
    read_back = await api.get(f"/tasks/{answer['id']}", username)
    read_back.pop("application")
    assert answer == read_back


async def test_approve_add_signers_sign_and_the_last_approval_answer_what_is_read_back(api):
    app = await api.post("/applications", "t2001", json=submission("staff_leave", staff_leave()), expect=201)
    head = await pending_task(api, "t2101", app["number"])
    waiting = await api.post(f"/tasks/{head['id']}/add-signers", "t2101",
                             json={"users": ["t1203", "t1204"], "opinion": "请给意见"})
    await assert_answer_is_the_task_read_back(api, "t2101", waiting)
    for username, agree in (("t1203", True), ("t1204", False)):
        signer_task = await pending_task(api, username, app["number"])
        signed = await api.post(f"/tasks/{signer_task['id']}/sign", username, json={"opinion": "意见", "agree": agree})
        await assert_answer_is_the_task_read_back(api, username, signed)
    approved = await api.post(f"/tasks/{head['id']}/approve", "t2101", json={"opinion": "同意"})
    assert approved["signers"] and approved["application_current_node"]["key"] == "attendance"
    await assert_answer_is_the_task_read_back(api, "t2101", approved)
    last = await pending_task(api, "t1402", app["number"])
    finished = await api.post(f"/tasks/{last['id']}/approve", "t1402", json={})
    assert finished["application_status"] == "approved" and finished["application_current_node"] is None
    await assert_answer_is_the_task_read_back(api, "t1402", finished)


async def test_a_countersign_and_a_return_answer_what_is_read_back(api):
    app = await api.post("/applications", "t2001", json=submission("network_account", network_account()), expect=201)
    head = await pending_task(api, "t2101", app["number"])
    await api.post(f"/tasks/{head['id']}/approve", "t2101", json={})
    first = await pending_task(api, "t1102", app["number"])
    partly = await api.post(f"/tasks/{first['id']}/approve", "t1102", json={"opinion": "已开通"})
    assert partly["application_current_node"]["key"] == "netadmin"  # the other countersigner still owes
    await assert_answer_is_the_task_read_back(api, "t1102", partly)
    second = await pending_task(api, "t1103", app["number"])
    returned = await api.post(f"/tasks/{second['id']}/return", "t1103", json={"opinion": "请补充设备信息"})
    assert returned["application_status"] == "returned"
    await assert_answer_is_the_task_read_back(api, "t1103", returned)
