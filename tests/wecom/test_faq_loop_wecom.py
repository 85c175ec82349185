"""The FAQ loop in WeCom (the simulator, through the gateway and Rasa's wecom channel): a how-to
answer is the backend's text on a card with 有帮助 / 没帮助, and 没帮助 tapped there is recorded for
the console with the channel wecom, a person offered."""
from __future__ import annotations

import time
from typing import Any

from tests.support.wecom import click, content_of, last_id, sent_to

USERID = "zhangwei"  # 张伟, t2001
STAFF = "t1104"
QUESTION = "审批人退回了我该怎么办"


def card_after(stack, after: int, seconds: float = 90) -> dict[str, Any]:
    """The first card sent to the user after message ``after`` (the answer's text may come before it)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        cards = [m for m in sent_to(stack, USERID, after) if m["msgtype"] == "template_card"]
        if cards:
            return cards[0]
        time.sleep(0.3)
    raise AssertionError(f"no card to {USERID} after {seconds} s: {sent_to(stack, USERID, after)}")


def test_a_wecom_answer_comes_from_the_backend_and_not_helpful_is_recorded(wecom_stack):
    stack = wecom_stack
    status, answer = stack.api(STAFF, "GET", "/faq/answers/returned_what_next")
    assert status == 200
    after = last_id(stack, USERID)
    status, delivery = stack.sim("POST", "say", {"userid": USERID, "text": QUESTION})
    assert status == 200 and delivery["statuses"] == [200], delivery
    card = card_after(stack, after)
    shown = content_of(sent_to(stack, USERID, after))
    assert answer["text"].splitlines()[0] in shown and "有帮助" in shown and "没帮助" in shown

    sorry = content_of(click(stack, USERID, card, "没帮助"))
    assert "没能帮上忙" in sorry and "转人工" in sorry
    status, listed = stack.api(STAFF, "GET", "/helpdesk/questions")
    recorded = [q for g in listed["groups"] for q in g["questions"]
                if q["text"] == QUESTION and q["kind"] == "not_helpful" and q["channel"] == "wecom"]
    assert recorded and recorded[-1]["asker"] == "张伟" and recorded[-1]["predicted_key"] == "faq/returned_what_next"
