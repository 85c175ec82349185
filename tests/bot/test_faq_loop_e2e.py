"""The unanswered-question loop through the whole stack (Rasa with the trained model, the action
server, the backend): messages the assistant did not understand are recorded and grouped in the
console, a person is offered at the second in a row, staff answer the group and edit the answer —
and asking again serves the edited text at once, without retraining; 没帮助 is recorded too."""
from __future__ import annotations

from typing import Any

import pytest

from actions.faq import CAVEAT, UNSURE_BELOW

from tests.support.chat import buttons_of, reset, text_of

STAFF = "t1104"  # 何婷, 服务台
SENDER = "web:t2001"  # 张伟
QUESTION = "审批人退回了我该怎么办"
# Texts this model does not understand (checked first, so a retrain that learns them says so).
NOT_UNDERSTOOD = ("这个咋整啊", "咋整啊这个")
# How-to questions the model may answer without confidence; the first it is unsure of is used.
MAYBE_UNSURE = ("点进去又要验证身份", "重复认证怎么办", "上网账号能登录吗", "今日校园里怎么看我的待办", "怎么审批申请")


def parsed(stack, text: str) -> dict[str, Any]:
    status, body = stack.rasa_api("POST", "/model/parse", {"text": text})
    assert status == 200, body
    return body


def staff(stack, method: str, path: str, body: Any = None) -> Any:
    status, answer = stack.api(STAFF, method, path, body)
    assert status in (200, 201), (path, status, answer)
    return answer


def open_groups(stack) -> list[dict[str, Any]]:
    return staff(stack, "GET", "/helpdesk/questions")["groups"]


@pytest.fixture
def original_answer(stack):
    """The answer this test edits, put back afterwards (the stack is shared by the run's tests)."""
    before = staff(stack, "GET", "/faq/answers/returned_what_next")["text"]
    yield before
    staff(stack, "PUT", "/faq/answers/returned_what_next", {"text": before})


def test_misunderstood_questions_are_grouped_answered_and_the_edited_answer_served_at_once(stack, original_answer):
    for text in NOT_UNDERSTOOD:
        assert parsed(stack, text)["intent"]["name"] == "nlu_fallback", f"the model now understands {text!r}"
    reset(stack, SENDER)
    first = stack.say(SENDER, NOT_UNDERSTOOD[0])
    assert "不确定您的意思" in text_of(first) and "转人工" not in buttons_of(first)
    second = stack.say(SENDER, NOT_UNDERSTOOD[1])
    assert buttons_of(second) == ["转人工"]
    assert [b["payload"] for r in second for b in r.get("buttons", [])] == [
        '/request_human{"handoff_reason": "misunderstood"}']

    groups = [g for g in open_groups(stack) if g["text"] in NOT_UNDERSTOOD]
    assert len(groups) == 1, groups  # similar enough to be one group
    group = groups[0]
    assert group["count"] >= 2 and group["channels"].get("web", 0) >= 2 and group["kinds"].get("fallback", 0) >= 2
    mine = [q for q in group["questions"] if q["text"] in NOT_UNDERSTOOD and q["asker"] == "张伟"]
    assert {q["text"] for q in mine} == set(NOT_UNDERSTOOD)

    edited = original_answer + "\n(服务台补充:如有疑问可直接「转人工」。)"
    answered = staff(stack, "POST", "/helpdesk/questions/answer",
                     {"questions": group["question_ids"], "key": "faq/returned_what_next", "text": edited})
    assert answered["answered"] == group["count"] and answered["answer"]["text"] == edited
    assert not [g for g in open_groups(stack) if g["text"] in NOT_UNDERSTOOD]

    replies = stack.say(SENDER, QUESTION)
    assert edited in text_of(replies)
    assert {"有帮助", "没帮助"} <= set(buttons_of(replies))

    sorry = stack.say(SENDER, '/faq_feedback{"faq_helpful": "no"}')
    assert "没能帮上忙" in text_of(sorry) and buttons_of(sorry) == ["转人工"]
    recorded = [q for g in open_groups(stack) for q in g["questions"]
                if q["text"] == QUESTION and q["kind"] == "not_helpful" and q["asker"] == "张伟"]
    assert recorded and recorded[-1]["predicted_key"] == "faq/returned_what_next" and recorded[-1]["channel"] == "web"


def test_helpful_is_thanked_and_nothing_recorded(stack):
    reset(stack, SENDER)
    stack.say(SENDER, QUESTION)
    before = sum(g["count"] for g in open_groups(stack))
    assert "很高兴能帮到您" in text_of(stack.say(SENDER, '/faq_feedback{"faq_helpful": "yes"}'))
    assert sum(g["count"] for g in open_groups(stack)) == before


def test_an_unsure_answer_comes_with_a_caveat_and_the_offer_of_a_person_and_is_recorded(stack):
    def unsure(text: str) -> bool:
        found = parsed(stack, text)
        selector = found.get("response_selector", {}).get("faq", {}).get("response", {})
        return found["intent"]["name"] == "faq" and selector.get("confidence", 1) < UNSURE_BELOW

    text = next((t for t in MAYBE_UNSURE if unsure(t)), None)
    assert text, f"this model is sure of every one of {MAYBE_UNSURE}: add a question it is unsure of"
    reset(stack, SENDER)
    replies = stack.say(SENDER, text)
    assert CAVEAT in text_of(replies) and buttons_of(replies) == ["有帮助", "没帮助", "转人工"]
    assert [b["payload"] for r in replies for b in r.get("buttons", [])][-1] == \
        '/request_human{"handoff_reason": "unsure"}'
    recorded = [q for g in open_groups(stack) for q in g["questions"] if q["text"] == text]
    assert recorded and recorded[-1]["kind"] == "low_confidence" and recorded[-1]["confidence"] < UNSURE_BELOW
