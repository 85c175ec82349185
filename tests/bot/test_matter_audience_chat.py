"""「我要请假」 through the whole stack: a teacher is taken straight into the staff leave and a
student into 学生请假, because the chat searches only what the backend offers that person
(issue 16 item 6); a student's leave is then submitted and checked in the backend."""
from __future__ import annotations

from tests.support.chat import buttons_of, reset, text_of
from tests.support.dates import days_ahead

TEACHER, STUDENT = "t2103", "s20240103"


def mine(stack, username: str, matter: str) -> list[dict]:
    status, body = stack.api(username, "GET", "/applications?mine=1&limit=50")
    assert status == 200, body
    return [a for a in body["items"] if a["matter"]["code"] == matter]


def test_a_teachers_leave_request_goes_straight_into_the_staff_leave(stack):
    sender = f"web:{TEACHER}"
    reset(stack, sender)
    replies = stack.say(sender, "我要请假")
    text = text_of(replies)
    assert "《请假申请(教职工)》" in text and "学生请假" not in text, text
    assert "哪一项" not in text and "学生请假" not in buttons_of(replies)
    assert "请假类型" in text  # the form's first question, asked at once
    assert "已取消" in text_of(stack.say(sender, "算了"))


def test_a_students_leave_request_goes_into_student_leave_and_is_submitted(stack):
    sender = f"web:{STUDENT}"
    reset(stack, sender)
    before = len(mine(stack, STUDENT, "student_leave"))
    text = text_of(stack.say(sender, "我要请假"))
    assert "《学生请假》" in text and "教职工" not in text, text
    day = days_ahead(2).strftime("%Y-%m-%d")
    answers = {"请假类型": "病假", "开始时间": f"{day} 08:00", "结束时间": f"{day} 18:00", "请假天数": "1",
               "是否离校": "否", "紧急联系人": "邓父 13800000000", "请假事由": "发烧需要去医院就诊",
               "证明材料": "跳过"}
    for _ in range(len(answers)):
        asked = next((label for label in answers if f"「{label}" in text or f"{label}」" in text), None)
        assert asked, text
        text = text_of(stack.say(sender, answers.pop(asked)))
    assert "请确认《学生请假》" in text, text
    assert "已提交" in text_of(stack.say(sender, "/affirm"))
    created = mine(stack, STUDENT, "student_leave")
    assert len(created) == before + 1
    status, detail = stack.api(STUDENT, "GET", f"/applications/{created[0]['id']}")
    assert status == 200 and detail["form"]["leave_type"] == "病假" and detail["form"]["leave_school"] == "否"
