"""The offer to switch matters mid-form (actions/matter_switch.py): how a reply to it is read,
what the offer says, and when an answer counts as a request for another matter."""
from types import SimpleNamespace

import pytest

from actions.matter_switch import left_behind, offer, reply_to_offer, requested_matter, switch_request, taken_up


class Search:
    def __init__(self, found):
        self.found, self.queries = found, []

    async def search_matters(self, who, q):
        self.queries.append(q)
        return self.found


SEAL = {"code": "seal_usage", "name": "公章使用申请", "score": 6}


def tracker(intent: str, confidence: float):
    return SimpleNamespace(latest_message={"intent": {"name": intent, "confidence": confidence}})


@pytest.mark.parametrize("text", ["切换", "好的", "是", "/affirm", "切换吧。"])
def test_taking_the_offer(text):
    assert reply_to_offer(text) == "take"


@pytest.mark.parametrize("text", ["继续填写", "接着填写", "不换了,继续填", "继续填写《请假申请(教职工)》", "不切换", "/deny"])
def test_declining_the_offer(text):
    assert reply_to_offer(text) == "decline"


@pytest.mark.parametrize("text", ["事假", "家中有事需要处理", "2", "/deny{\"x\": 1}"])
def test_anything_else_is_an_answer(text):
    assert reply_to_offer(text) is None


def test_the_offer_says_plainly_what_becomes_of_the_answers_and_offers_both_ways():
    seal = {"code": "seal_usage", "name": "公章使用申请"}
    left = left_behind("staff_leave", "请假申请(教职工)", {"leave_type": "事假"}, None)
    text, buttons = offer("请假申请(教职工)", seal, left, True)
    assert text == ("要改为办理《公章使用申请》吗?已填的《请假申请(教职工)》信息会先保留,"
                    "本次对话中再说要办《请假申请(教职工)》即可接着填。")
    assert [b["title"] for b in buttons] == ["切换", "继续填写《请假申请(教职工)》"]
    resubmission = left_behind("staff_leave", "请假申请(教职工)", {"leave_type": "事假"}, 12)
    assert resubmission is None
    assert offer("请假申请(教职工)", seal, None, True)[0].endswith("已填的《请假申请(教职工)》信息将不保存。")
    assert offer("请假申请(教职工)", seal, None, False)[0].endswith("《请假申请(教职工)》还没有填写任何内容。")


def test_kept_answers_are_taken_up_only_by_their_own_matter():
    left = left_behind("staff_leave", "请假申请(教职工)", {"leave_type": "事假"}, None)
    assert taken_up(left, "staff_leave") == {"leave_type": "事假"}
    assert taken_up(left, "seal_usage") == {} and taken_up(None, "staff_leave") == {}
    assert left_behind("staff_leave", "请假申请(教职工)", {}, None) is None  # nothing to keep


async def test_only_one_clear_other_matter_is_requested():
    assert (await requested_matter(Search([SEAL]), "t", "我要盖章", "staff_leave"))["code"] == "seal_usage"
    assert await requested_matter(Search([SEAL]), "t", "我要盖章", "seal_usage") is None  # the same matter
    assert await requested_matter(Search([{**SEAL, "score": 1}]), "t", "申请", "staff_leave") is None  # weak
    tie = [SEAL, {"code": "meeting_room", "name": "会议室预约", "score": 6}]
    assert await requested_matter(Search(tie), "t", "盖章开会", "staff_leave") is None
    assert await requested_matter(Search([SEAL]), "t", "/affirm", "staff_leave") is None


async def test_a_free_text_answer_is_a_request_only_when_it_changes_course_and_reads_as_one():
    api = Search([SEAL])
    assert await switch_request(api, "t", tracker("request_matter", 0.9), "textarea", "不请了,我要盖章",
                                "staff_leave", refused=False)
    assert await switch_request(api, "t", tracker("request_matter", 0.9), "textarea", "合同需要盖章",
                                "staff_leave", refused=False) is None
    assert await switch_request(api, "t", tracker("inform", 0.9), "textarea", "算了,合同盖章",
                                "staff_leave", refused=False) is None


async def test_a_choice_answer_is_a_request_only_when_it_is_no_option():
    api = Search([SEAL])
    assert await switch_request(api, "t", tracker("inform", 0.9), "choice", "盖章", "staff_leave", refused=False) is None
    assert await switch_request(api, "t", tracker("inform", 0.9), "choice", "盖章", "staff_leave", refused=True)
