"""Whole conversations through Rasa + action server + backend, checked on both ends:
what the assistant said, and what the backend holds afterwards."""
from __future__ import annotations

import os
import signal
import time
import uuid

from tests.support.chat import buttons_of, reset, submit_leave, submit_seal, text_of
from tests.support.dates import tomorrow


def fresh(username: str) -> str:
    """A web chat identity for the user, in a conversation of its own."""
    return f"web:{username}"


def my_applications(stack, username: str) -> list[dict]:
    status, body = stack.api(username, "GET", "/applications?mine=1&limit=50")
    assert status == 200
    return body["items"]


def test_greeting_shows_the_menu_with_buttons(stack):
    sender = fresh("t2001")
    reset(stack, sender)
    replies = stack.say(sender, "你好")
    assert "校务助手" in text_of(replies)
    assert {"办理事项", "我的待办", "我的申请"} <= set(buttons_of(replies))


def test_submitting_a_seal_request_by_chat_creates_exactly_that_application(stack):
    sender = fresh("t2001")
    reset(stack, sender)
    before = {a["id"] for a in my_applications(stack, "t2001")}
    replies = stack.say(sender, "我要盖章")
    assert "公章使用申请" in text_of(replies) and "印章类型" in text_of(replies)
    assert "学校公章" in buttons_of(replies)
    assert "文件名称" in text_of(stack.say(sender, "学校公章"))
    assert "份数" in text_of(stack.say(sender, "2026年合作协议"))
    text = text_of(stack.say(sender, "两份"))
    assert "用印日期" in text
    assert "用印事由" in text_of(stack.say(sender, "明天"))
    assert "用印文件" in text_of(stack.say(sender, "与杭州剧院签订演出合作协议"))
    replies = stack.say(sender, "合作协议.pdf")
    assert "审核人" in text_of(replies) and "沈立群(校领导)" in buttons_of(replies)
    summary = text_of(stack.say(sender, "沈立群"))
    assert "请确认《公章使用申请》" in summary and "用印份数:2" in summary and "沈立群" in summary
    done = text_of(stack.say(sender, "/affirm"))
    assert "已提交《公章使用申请》" in done and "SW" in done
    created = [a for a in my_applications(stack, "t2001") if a["id"] not in before]
    assert len(created) == 1
    status, detail = stack.api("t2001", "GET", f"/applications/{created[0]['id']}")
    assert detail["form"] == {"seal_type": "学校公章", "document_name": "2026年合作协议", "copies": 2,
                              "use_date": tomorrow(), "purpose": "与杭州剧院签订演出合作协议",
                              "document": "合作协议.pdf"}
    assert detail["approvers"] == {"leader": "t0002"} and detail["number"] in done



def _fill_seal_form_to_the_summary(stack, sender: str) -> None:
    for answer in ("我要盖章", "学校公章", "确认函", "一份", "明天", "确认合作事项", "确认函.pdf"):
        stack.say(sender, answer)
    assert "请确认《公章使用申请》" in text_of(stack.say(sender, "沈立群"))


def test_a_confirmation_whose_answer_was_lost_submits_once_when_confirmed_again(stack):
    """「确认」 while the backend hangs: the action gives up (the backend may still commit);
    「确认」 again sends the same Idempotency-Key, so there is one application, and it is named."""
    sender = fresh("t2001")
    reset(stack, sender)
    before = {a["id"] for a in my_applications(stack, "t2001")}
    _fill_seal_form_to_the_summary(stack, sender)
    backend = stack.pid("backend")
    os.kill(backend, signal.SIGSTOP)
    try:
        unsure = text_of(stack.say(sender, "/affirm"))  # the action's backend call times out
    finally:
        os.kill(backend, signal.SIGCONT)
    assert "无法确认是否已提交" in unsure and "已提交《" not in unsure
    deadline = time.monotonic() + 20  # the backend, running again, handles the request it had received
    while time.monotonic() < deadline and not [a for a in my_applications(stack, "t2001") if a["id"] not in before]:
        time.sleep(0.2)
    done = text_of(stack.say(sender, "确认"))
    created = [a for a in my_applications(stack, "t2001") if a["id"] not in before]
    assert len(created) == 1, created
    assert "已提交《公章使用申请》" in done and created[0]["number"] in done
    again = text_of(stack.say(sender, "确认"))  # the form is over: nothing more is submitted
    assert len([a for a in my_applications(stack, "t2001") if a["id"] not in before]) == 1, again


def test_a_correction_at_the_summary_changes_that_field_and_nothing_else(stack):
    sender = fresh("t2202")
    reset(stack, sender)
    before = {a["id"] for a in my_applications(stack, "t2202")}
    for answer in ("我要盖章", "学校公章", "排练场租赁合同", "两份", "明天", "租用排练场", "租赁合同.pdf"):
        stack.say(sender, answer)
    assert "用印份数:2" in text_of(stack.say(sender, "沈立群"))
    summary = text_of(stack.say(sender, "把份数改成3份"))
    assert "请确认《公章使用申请》" in summary and "用印份数:3" in summary and "排练场租赁合同" in summary
    assert "已提交" in text_of(stack.say(sender, "/affirm"))
    created = [a for a in my_applications(stack, "t2202") if a["id"] not in before]
    assert len(created) == 1
    status, detail = stack.api("t2202", "GET", f"/applications/{created[0]['id']}")
    assert detail["form"] == {"seal_type": "学校公章", "document_name": "排练场租赁合同", "copies": 3,
                              "use_date": tomorrow(), "purpose": "租用排练场", "document": "租赁合同.pdf"}


def test_a_returned_application_is_resubmitted_by_chat_with_its_answers_prefilled(stack):
    submitted = submit_seal(stack, "t2301", leader="t0003")
    status, tasks = stack.api("t0003", "GET", "/tasks")
    task = next(t for t in tasks["items"] if t["number"] == submitted["number"])
    status, _ = stack.api("t0003", "POST", f"/tasks/{task['id']}/return", {"opinion": "请补充盖章附件"})
    assert status == 200
    sender = fresh("t2301")
    reset(stack, sender)
    opening = text_of(stack.say(sender, "重新提交"))
    assert submitted["number"] in opening and "请补充盖章附件" in opening and "原填写" in opening
    reply = opening
    for _ in range(10):  # keep every answer except the attachment the approver asked for
        if "请确认" in reply:
            break
        reply = text_of(stack.say(sender, "演出合同-补充.pdf" if "请填写「用印文件」" in reply else "保持不变"))
    assert "请确认" in reply and "演出合同-补充.pdf" in reply
    assert submitted["number"] in text_of(stack.say(sender, "/affirm"))
    status, detail = stack.api("t2301", "GET", f"/applications/{submitted['id']}")
    assert detail["status"] == "running" and detail["round"] == 2
    assert detail["form"]["document"] == "演出合同-补充.pdf" and detail["form"]["purpose"] == "演出合作"
    assert detail["approvers"] == {"leader": "t0003"}

def test_a_bad_answer_is_explained_and_asked_again(stack):
    sender = fresh("t2001")
    reset(stack, sender)
    stack.say(sender, "我要盖章")
    stack.say(sender, "学校公章")
    stack.say(sender, "文件A")
    text = text_of(stack.say(sender, "一百份"))
    assert "不能大于 50" in text and "重新输入" in text and "份数" in text
    assert "用印日期" in text_of(stack.say(sender, "3"))
    text = text_of(stack.say(sender, "昨天"))
    assert "不能早于今天" in text
    stack.say(sender, "算了")


def test_cancel_midway_writes_nothing(stack):
    sender = fresh("t2103")
    reset(stack, sender)
    before = len(my_applications(stack, "t2103"))
    stack.say(sender, "我想借音乐厅排练")
    stack.say(sender, "音乐厅")
    assert "已取消" in text_of(stack.say(sender, "算了,不弄了"))
    assert len(my_applications(stack, "t2103")) == before


def test_a_how_to_question_in_the_middle_of_a_form_then_it_goes_on(stack):
    sender = fresh("t2001")
    reset(stack, sender)
    stack.say(sender, "我要盖章")
    stack.say(sender, "学校公章")
    replies = text_of(stack.say(sender, "加签是什么意思"))
    assert "加签" in replies and "文件名称" in replies  # answered, then the same question again
    stack.say(sender, "算了")


def test_an_old_button_is_no_answer_and_a_free_answer_that_reads_like_help_is_one(stack):
    sender = fresh("t2001")
    reset(stack, sender)
    before = {a["id"] for a in my_applications(stack, "t2001")}
    stack.say(sender, "我要盖章")
    stack.say(sender, "学校公章")
    # A button of an earlier message (「我的待办」) clicked while the document name is asked.
    text = text_of(stack.say(sender, "/list_tasks"))
    assert "请直接回答" in text and "文件名称" in text
    # 「帮助手册印刷」 reads like 「使用帮助」 to the NLU; asked for a document name, it is the name.
    assert "份数" in text_of(stack.say(sender, "帮助手册印刷"))
    for answer in ("两份", "明天", "印刷新版帮助手册", "手册.pdf"):
        stack.say(sender, answer)
    assert "帮助手册印刷" in text_of(stack.say(sender, "沈立群"))
    assert "已提交" in text_of(stack.say(sender, "/affirm"))
    created = [a for a in my_applications(stack, "t2001") if a["id"] not in before]
    assert len(created) == 1
    status, detail = stack.api("t2001", "GET", f"/applications/{created[0]['id']}")
    assert (detail["form"]["document_name"], detail["form"]["purpose"]) == ("帮助手册印刷", "印刷新版帮助手册")


def test_pending_tasks_are_listed_and_approved_with_the_opinion_verbatim(stack):
    leader = fresh("t0003")
    submitted = submit_seal(stack, "t2001", leader="t0003")
    reset(stack, leader)
    listing = text_of(stack.say(leader, "我有什么待办"))
    assert submitted["number"] in listing and "张伟" in listing
    position = next(i for i, line in enumerate(listing.splitlines()) if submitted["number"] in line)
    done = text_of(stack.say(leader, f"同意第{position}个,情况属实"))
    assert "已同意" in done and "情况属实" in done
    status, detail = stack.api("t2001", "GET", f"/applications/{submitted['id']}")
    assert detail["current_node"]["key"] == "seal_keeper"
    assert detail["records"][-1]["opinion"] == "情况属实" and detail["records"][-1]["actor"]["username"] == "t0003"


def test_return_by_number_with_a_reason(stack):
    leader = fresh("t0003")
    submitted = submit_seal(stack, "t2001", leader="t0003")
    reset(stack, leader)
    done = text_of(stack.say(leader, f"退回 {submitted['number']} 请补充附件"))
    assert "已退回" in done
    status, detail = stack.api("t2001", "GET", f"/applications/{submitted['id']}")
    assert detail["status"] == "returned" and detail["records"][-1]["opinion"] == "请补充附件"


def test_a_task_already_decided_gets_a_clear_explanation(stack):
    leader = fresh("t0003")
    submitted = submit_seal(stack, "t2001", leader="t0003")
    status, tasks = stack.api("t0003", "GET", "/tasks")
    task = next(t for t in tasks["items"] if t["number"] == submitted["number"])
    stack.api("t0003", "POST", f"/tasks/{task['id']}/approve", {"opinion": "网页上已同意"})
    reset(stack, leader)
    text = text_of(stack.say(leader, f"同意 {submitted['number']}"))
    assert "没有" in text and submitted["number"] in text  # no longer among the pending tasks


def test_add_signers_by_name_and_department(stack):
    submitted = submit_leave(stack, "t2001")
    head = fresh("t2101")
    reset(stack, head)
    done = text_of(stack.say(head, f"加签给教务处的王老师和李老师 {submitted['number']}"))
    assert "王丽华" in done and "李明" in done
    status, tasks = stack.api("t1203", "GET", "/tasks")
    assert submitted["number"] in {t["number"] for t in tasks["items"]}
    signer = fresh("t1203")
    reset(stack, signer)
    said = text_of(stack.say(signer, f"同意 {submitted['number']} 情况属实"))
    assert "意见" in said
    status, detail = stack.api("t2001", "GET", f"/applications/{submitted['id']}")
    signs = [r for r in detail["records"] if r["action"] == "sign"]
    assert signs and signs[-1]["opinion"] == "情况属实" and signs[-1]["detail"]["agree"] is True


def test_progress_and_terminate_with_confirmation(stack):
    submitted = submit_seal(stack, "t2103", leader="t0001")
    sender = fresh("t2103")
    reset(stack, sender)
    replies = stack.say(sender, "我的用章申请批到哪了")
    progress = text_of(replies)
    assert submitted["number"] in progress and "分管校领导审批" in progress and "郑国华" in progress
    # The flow diagram comes as data each channel draws (the web chat: a link to the hall's page).
    diagrams = [r["custom"]["progress_diagram"] for r in replies if "progress_diagram" in (r.get("custom") or {})]
    assert diagrams == [{"application_id": submitted["id"], "path": f"/applications/{submitted['id']}/progress"}]
    ask = stack.say(sender, "终止我的用章申请")
    assert "确定要终止" in text_of(ask) and submitted["number"] in text_of(ask)
    assert "已终止" in text_of(stack.say(sender, "/affirm"))
    status, detail = stack.api("t2103", "GET", f"/applications/{submitted['id']}")
    assert detail["status"] == "terminated"


def test_an_unbound_identity_gets_instructions_and_no_data(stack):
    sender = f"wecom:stranger-{uuid.uuid4().hex[:6]}"
    text = text_of(stack.say(sender, "我有什么待办"))
    assert "绑定" in text and "87150044" in text
    assert "SW" not in text


def test_how_to_questions_are_answered_from_the_manual(stack):
    sender = fresh("t2001")
    reset(stack, sender)
    assert "work.zj-art.com" in text_of(stack.say(sender, "校务服务网怎么打开"))
    assert "退出" in text_of(stack.say(sender, "点掌上办事又让我认证,怎么回事"))
    assert "87150044" in text_of(stack.say(sender, "技术支持电话多少"))


def test_out_of_scope_is_honest_and_gives_the_help_desk(stack):
    sender = fresh("t2001")
    reset(stack, sender)
    text = text_of(stack.say(sender, "今天杭州天气怎么样"))
    assert "87150044" in text

