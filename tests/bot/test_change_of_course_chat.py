"""Issue 16 item 5 through the whole stack: everyday requests find their matter and pre-fill what
they already say (「下周想请两天假」: 2 days from next Monday, read back), and a person who
changes course mid-form is offered the switch (taken or declined); checked in the backend."""
from __future__ import annotations

from datetime import timedelta

from tests.support.chat import buttons_of, reset, text_of
from tests.support.dates import college_today

TEACHER = "t2001"


def mine(stack, username: str, matter: str) -> list[dict]:
    status, body = stack.api(username, "GET", "/applications?mine=1&limit=50")
    assert status == 200, body
    return [a for a in body["items"] if a["matter"]["code"] == matter]


def next_monday():
    today = college_today()
    return today + timedelta(days=7 - today.weekday())


def answer_all(stack, sender: str, text: str, answers: dict[str, str]) -> str:
    """Answers each question by its label until the summary; returns the summary."""
    for _ in range(len(answers) + 1):
        if "请确认《" in text:
            return text
        asked = next((label for label in answers if f"「{label}" in text), None)
        assert asked, text
        text = text_of(stack.say(sender, answers.pop(asked)))
    assert "请确认《" in text, text
    return text


def test_a_leave_said_in_one_sentence_is_found_prefilled_read_back_and_submitted(stack):
    sender = f"web:{TEACHER}"
    reset(stack, sender)
    before = len(mine(stack, TEACHER, "staff_leave"))
    monday = next_monday()
    text = text_of(stack.say(sender, "下周想请两天假"))
    assert "《请假申请(教职工)》" in text, text
    assert "请假天数 2 天" in text and f"开始时间 {monday.month}月{monday.day}日(周一)08:30" in text, text
    assert "请假类型" in text  # asked next; the said answers are not asked again
    tuesday = monday + timedelta(days=1)
    summary = answer_all(stack, sender, text, {"请假类型": "事假", "结束时间": f"{tuesday:%Y-%m-%d} 17:30",
                                               "请假事由": "家中有事需要处理", "工作交接人": "跳过", "证明材料": "跳过"})
    assert "请假天数:2" in summary and f"开始时间:{monday:%Y-%m-%d} 08:30" in summary, summary
    assert "已提交《请假申请(教职工)》" in text_of(stack.say(sender, "/affirm"))
    created = mine(stack, TEACHER, "staff_leave")
    assert len(created) == before + 1
    status, detail = stack.api(TEACHER, "GET", f"/applications/{created[0]['id']}")
    assert status == 200
    assert detail["form"]["days"] == 2 and detail["form"]["start_time"] == f"{monday:%Y-%m-%d} 08:30"
    assert detail["form"]["leave_type"] == "事假"


def test_the_schools_car_finds_the_official_car(stack):
    sender = f"web:{TEACHER}"
    reset(stack, sender)
    text = text_of(stack.say(sender, "要用一下学校的车"))
    assert "《公务用车申请》" in text and "没有找到" not in text, text
    assert "已取消" in text_of(stack.say(sender, "算了"))


def test_a_request_given_as_an_answer_is_offered_as_a_switch_the_other_matter_submitted_and_the_first_kept(stack):
    sender = f"web:{TEACHER}"
    reset(stack, sender)
    leaves, seals = len(mine(stack, TEACHER, "staff_leave")), len(mine(stack, TEACHER, "seal_usage"))
    assert "请假类型" in text_of(stack.say(sender, "我要请假"))
    replies = stack.say(sender, "算了,我要申请盖章")  # nothing answered yet
    assert "要改为办理《公章使用申请》吗?《请假申请(教职工)》还没有填写任何内容" in text_of(replies), text_of(replies)
    assert buttons_of(replies) == ["切换", "继续填写《请假申请(教职工)》"]
    assert "请从以下选项" not in text_of(replies)  # not taken as an answer to 请假类型
    assert "继续填写" in text_of(stack.say(sender, "/deny"))
    assert "开始时间" in text_of(stack.say(sender, "事假"))
    replies = stack.say(sender, "算了,我要申请盖章")  # no date either
    text = text_of(replies)
    assert "要改为办理《公章使用申请》吗" in text and "已填的《请假申请(教职工)》信息会先保留" in text, text
    assert "没看懂" not in text and "请填写「开始时间」" not in text
    text = text_of(stack.say(sender, "/affirm"))
    assert "改为办理《公章使用申请》" in text and "信息已保留" in text and "印章类型" in text, text
    summary = answer_all(stack, sender, text, {"印章类型": "学校公章", "文件名称": "演出合作协议", "用印份数": "两份",
                                               "用印日期": "明天", "用印事由": "与杭州剧院签订演出合作协议",
                                               "用印文件": "合作协议.pdf", "分管校领导审批": "沈立群"})
    assert "请确认《公章使用申请》" in summary
    done = text_of(stack.say(sender, "/affirm"))
    assert "已提交《公章使用申请》" in done and "您还有《请假申请(教职工)》没有填完" in done, done
    assert len(mine(stack, TEACHER, "seal_usage")) == seals + 1
    assert len(mine(stack, TEACHER, "staff_leave")) == leaves  # the leave is not submitted by the switch
    text = text_of(stack.say(sender, "我要请假"))  # back to the leave: 请假类型 kept
    assert "之前填写的 1 项已保留" in text and "开始时间" in text and "请假类型" not in text, text
    assert "已取消" in text_of(stack.say(sender, "算了"))


def test_a_switch_asked_in_a_free_text_answer_can_be_declined_and_the_answers_are_kept(stack):
    sender = f"web:{TEACHER}"
    reset(stack, sender)
    day = college_today() + timedelta(days=2)
    text = text_of(stack.say(sender, "我要请假"))
    for label, answer in [("请假类型", "病假"), ("开始时间", f"{day:%Y-%m-%d} 08:30"),
                          ("结束时间", f"{day:%Y-%m-%d} 17:30"), ("请假天数", "1")]:
        assert f"「{label}" in text, text
        text = text_of(stack.say(sender, answer))
    assert "请假事由" in text, text
    replies = stack.say(sender, "不请了,我要借场地")
    text = text_of(replies)
    assert "要改为办理《场地借用》吗" in text and "继续填写《请假申请(教职工)》" in buttons_of(replies), text
    text = text_of(stack.say(sender, "/deny"))
    assert "继续填写《请假申请(教职工)》,已填的信息都还在" in text and "请假事由" in text, text
    summary = answer_all(stack, sender, text, {"请假事由": "发烧需要去医院就诊", "工作交接人": "跳过", "证明材料": "跳过"})
    assert "请假类型:病假" in summary and "请假天数:1" in summary, summary
    assert "已取消" in text_of(stack.say(sender, "/cancel"))


def test_a_switch_said_as_a_correction_is_offered_and_answered_in_words(stack):
    sender = f"web:{TEACHER}"
    reset(stack, sender)
    assert "请假类型" in text_of(stack.say(sender, "我要请假"))
    text = text_of(stack.say(sender, "不请了,改成申请用车"))  # read by the NLU as a correction
    assert "要改为办理《公务用车申请》吗" in text and "没有找到" not in text, text
    text = text_of(stack.say(sender, "接着填写"))
    assert "继续填写《请假申请(教职工)》" in text and "请假类型" in text and "已取消" not in text, text
    assert "要改为办理《公务用车申请》吗" in text_of(stack.say(sender, "不请了,改成申请用车"))
    text = text_of(stack.say(sender, "切换"))
    assert "改为办理《公务用车申请》" in text and "用车开始时间" in text, text
    assert "已取消" in text_of(stack.say(sender, "算了"))


def test_a_student_asking_for_days_off_gets_student_leave_prefilled(stack):
    sender = "web:s20240101"
    reset(stack, sender)
    monday = next_monday()
    text = text_of(stack.say(sender, "老师,下下周我要请三天假"))  # not a training example
    assert "《学生请假》" in text and "教职工" not in text, text
    later = monday + timedelta(days=7)
    assert "请假天数 3 天" in text and f"开始时间 {later.month}月{later.day}日(周一)08:30" in text, text
    assert "已取消" in text_of(stack.say(sender, "算了"))
