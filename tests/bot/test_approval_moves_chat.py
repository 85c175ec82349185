"""The approval moves said in chat, through Rasa + action server + backend (the real stack):
「撤回我的用章申请」, 「转给教务处的李明」, 「让王丽华先看看」, 「退回到部门负责人…」, 「催一下」,
「备注:…」 and 「抄送给李明」 — checked on both ends: the reply, and what the backend holds."""
from __future__ import annotations

from tests.support.chat import reset, submit_leave, submit_seal, text_of


def detail(stack, username: str, application_id: int) -> dict:
    status, body = stack.api(username, "GET", f"/applications/{application_id}")
    assert status == 200, body
    return body


def pending_numbers(stack, username: str) -> set[str]:
    status, body = stack.api(username, "GET", "/tasks")
    return {t["number"] for t in body["items"]}


def test_withdrawing_my_seal_request_gives_it_back_to_edit(stack):
    submitted = submit_seal(stack, "t2103", leader="t0001")
    sender = "web:t2103"
    reset(stack, sender)
    said = text_of(stack.say(sender, "撤回我的用章申请"))
    assert "已撤回" in said and submitted["number"] in said and "重新提交" in said
    shown = detail(stack, "t2103", submitted["id"])
    assert shown["status"] == "returned" and shown["records"][-1]["action"] == "withdraw"
    assert submitted["number"] not in pending_numbers(stack, "t0001")


def test_transferring_a_task_to_someone_named_in_a_department(stack):
    submitted = submit_leave(stack, "t2001")
    head = "web:t2101"
    reset(stack, head)
    said = text_of(stack.say(head, f"{submitted['number']} 转给教务处的李明"))
    assert "转办给李明" in said
    assert submitted["number"] in pending_numbers(stack, "t1204")
    assert submitted["number"] not in pending_numbers(stack, "t2101")
    assert detail(stack, "t2001", submitted["id"])["records"][-1]["action_label"] == "转办给李明"


def test_delegating_then_the_delegate_answers_and_it_comes_back(stack):
    submitted = submit_leave(stack, "t2001")
    head = "web:t2101"
    reset(stack, head)
    assert "委派给王丽华" in text_of(stack.say(head, f"{submitted['number']} 让王丽华先看看"))
    delegate = "web:t1203"
    reset(stack, delegate)
    stack.say(delegate, f"同意 {submitted['number']} 天数没问题")
    assert submitted["number"] in pending_numbers(stack, "t2101")
    assert detail(stack, "t2001", submitted["id"])["records"][-1]["action_label"] == "委派意见:同意"


def test_returning_to_a_passed_node_by_its_name(stack):
    submitted = submit_leave(stack, "t2001")
    status, tasks = stack.api("t2101", "GET", "/tasks")
    task = next(t for t in tasks["items"] if t["number"] == submitted["number"])
    stack.api("t2101", "POST", f"/tasks/{task['id']}/approve", {})
    clerk = "web:t1402"
    reset(stack, clerk)
    said = text_of(stack.say(clerk, f"{submitted['number']} 退回到部门负责人,请核实天数"))
    assert "退回到「部门负责人审批」" in said
    shown = detail(stack, "t2001", submitted["id"])
    assert shown["current_node"]["key"] == "dept_head" and shown["records"][-1]["opinion"] == "请核实天数"


def test_remind_comment_and_cc_on_my_application(stack):
    submitted = submit_seal(stack, "t2103", leader="t0001")
    sender = "web:t2103"
    reset(stack, sender)
    assert "已催办" in text_of(stack.say(sender, "催一下"))
    assert "4 小时内只能催办一次" in text_of(stack.say(sender, "帮我催一下"))
    assert "原件明天送到" in text_of(stack.say(sender, "备注:原件明天送到"))
    assert "抄送给李明" in text_of(stack.say(sender, "抄送给李明"))
    shown = detail(stack, "t2103", submitted["id"])
    assert [r["action"] for r in shown["records"]][-3:] == ["remind", "comment", "cc"]
    assert shown["records"][-2]["opinion"] == "原件明天送到" and [p["name"] for p in shown["cc"]] == ["李明"]
