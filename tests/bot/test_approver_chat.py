"""The approver's chat of issue 16 through Rasa + action server + backend (the real stack):
「全部同意」 lists and asks once, then each task is decided on its own (one withdrawn meanwhile is
reported, the others approved); 「取消」 decides nothing; 已办 with 「本周」 / 「退回的」; 后加签 and
减签 said in words; several of my applications terminated at once — checked in the backend."""
from __future__ import annotations

from tests.support.approver import clear_pending, tasks
from tests.support.chat import buttons_of, reset, submit_leave, text_of

APPLICANT, HEAD, LI, WANG = "t2001", "t2101", "t1204", "t1203"  # 张伟, 韩松涛 (音乐系负责人), 李明, 王丽华


def task_of(stack, username: str, number: str, status: str = "pending") -> dict:
    return next(t for t in tasks(stack, username, status) if t["number"] == number)


def test_all_approved_after_one_confirmation_and_one_withdrawn_meanwhile_is_reported(stack):
    clear_pending(stack, HEAD)
    numbers = [submit_leave(stack, APPLICANT)["number"] for _ in range(3)]
    head = "web:t2101"
    reset(stack, head)
    replies = stack.say(head, "全部同意,按规定办理")
    asked = text_of(replies)
    assert "将同意以下 3 件待办,意见:按规定办理" in asked and all(n in asked for n in numbers)
    assert buttons_of(replies) == ["确认", "取消"]
    assert {t["number"] for t in tasks(stack, HEAD)} >= set(numbers)  # nothing decided yet
    withdrawn = numbers[1]
    code, body = stack.api(APPLICANT, "POST", f"/applications/{task_of(stack, HEAD, withdrawn)['application_id']}"
                                              "/withdraw", {})
    assert code == 200, body
    said = text_of(stack.say(head, "/affirm"))
    assert "已同意 2 件" in said and numbers[0] in said and numbers[2] in said
    assert "1 件未能同意" in said and withdrawn in said
    decided = {t["number"]: t for t in tasks(stack, HEAD, "done")}
    for number in (numbers[0], numbers[2]):
        assert (decided[number]["decision"], decided[number]["opinion"]) == ("approve", "按规定办理")
    assert withdrawn not in decided and withdrawn not in {t["number"] for t in tasks(stack, HEAD)}


def test_a_declined_batch_decides_nothing_and_numbers_pick_from_the_last_list(stack):
    clear_pending(stack, HEAD)
    numbers = [submit_leave(stack, APPLICANT)["number"] for _ in range(3)]
    head = "web:t2101"
    reset(stack, head)
    assert "将同意以下 3 件待办" in text_of(stack.say(head, "把请假的都同意了"))
    assert "已取消" in text_of(stack.say(head, "/deny"))
    assert {t["number"] for t in tasks(stack, HEAD)} == set(numbers)
    listed = text_of(stack.say(head, "我的待办")).splitlines()
    first, third = (next(n for n in numbers if n in listed[i]) for i in (1, 3))
    asked = text_of(stack.say(head, "同意第1个和第3个"))
    assert "将同意以下 2 件待办" in asked and first in asked and third in asked
    stack.say(head, "/affirm")
    assert {t["number"] for t in tasks(stack, HEAD)} == set(numbers) - {first, third}


def test_done_tasks_in_chat_with_this_week_and_returned_ones(stack):
    clear_pending(stack, HEAD)
    approved, returned = (submit_leave(stack, APPLICANT)["number"] for _ in range(2))
    stack.api(HEAD, "POST", f"/tasks/{task_of(stack, HEAD, approved)['id']}/approve", {"opinion": "同意"})
    stack.api(HEAD, "POST", f"/tasks/{task_of(stack, HEAD, returned)['id']}/return", {"opinion": "材料不全"})
    head = "web:t2101"
    reset(stack, head)
    for question in ("看看我的已办", "我已经处理过哪些", "本周我审批了什么"):
        said = text_of(stack.say(head, question))
        assert "您办理过的任务" in said and approved in said and returned in said, (question, said)
        assert "您还没有提交过申请" not in said
    said = text_of(stack.say(head, "本周我处理过的退回的"))
    assert returned in said and approved not in said and "退回:材料不全" in said


def test_after_signers_and_removing_a_signer_in_words(stack):
    clear_pending(stack, HEAD)
    head = "web:t2101"
    reset(stack, head)
    later = submit_leave(stack, APPLICANT)["number"]
    said = text_of(stack.say(head, f"{later} 同意,然后请李明看一下"))
    assert "并后加签给 李明" in said, said
    assert task_of(stack, HEAD, later, "done")["decision"] == "approve"
    assert later in {t["number"] for t in tasks(stack, LI)}

    before = submit_leave(stack, APPLICANT)["number"]
    assert "加签给" in text_of(stack.say(head, f"{before} 加签给王丽华和李明"))
    said = text_of(stack.say(head, f"{before} 减去李明的加签"))
    assert "减去李明" in said and "王丽华" in said, said
    code, detail = stack.api(HEAD, "GET", f"/tasks/{task_of(stack, HEAD, before)['id']}")
    assert {s["name"]: s["status"] for s in detail["signers"]} == {"王丽华": "pending", "李明": "cancelled"}
    assert before not in {t["number"] for t in tasks(stack, LI)}


def test_several_of_my_applications_terminated_at_once(stack):
    numbers = [submit_leave(stack, APPLICANT)["number"] for _ in range(2)]
    me = "web:t2001"
    reset(stack, me)
    listed = text_of(stack.say(me, "我的申请")).splitlines()
    assert numbers[1] in listed[1] and numbers[0] in listed[2]
    asked = text_of(stack.say(me, "把第1个和第2个都终止"))
    assert "确定要终止以下 2 个申请" in asked and all(n in asked for n in numbers)
    said = text_of(stack.say(me, "/affirm"))
    assert "已终止" in said and all(n in said for n in numbers)
    code, mine = stack.api(APPLICANT, "GET", "/applications?mine=1&limit=50")
    assert {a["number"]: a["status"] for a in mine["items"] if a["number"] in numbers} == {
        n: "terminated" for n in numbers}
