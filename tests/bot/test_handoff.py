"""转人工 in the web chat, through the whole stack: the person joins the queue and is told their
place, the assistant stays silent while the help desk has them and what they write reaches the
console, the staff reply and the hand-back reach their chat panel (web notices, through the
notifier), then the assistant answers again; outside service hours a message left as a ticket is
answered and the person notified."""
from __future__ import annotations

from typing import Iterator

import pytest

from devtools.stack import Stack

from tests.support.chat import buttons_of, reset, text_of
from tests.support.helpdesk import (ALWAYS_OPEN, closed_now, console, eventually, help_desk, open_conversation_of,
                                    open_ticket_of, set_hours, transcript_texts)

PERSON = "t1203"  # 王丽华
SENDER = f"web:{PERSON}"


@pytest.fixture(scope="module")
def desk(stack: Stack) -> Iterator[Stack]:
    with help_desk(stack) as running:
        yield running


def notices_of(stack: Stack, username: str) -> str:
    status, answer = stack.api(username, "GET", "/notifications?limit=100")
    assert status == 200, answer
    return "\n".join(m.get("text", "") for n in answer["items"] for m in n["messages"])


def test_a_web_chat_handed_to_the_help_desk_and_back(desk):
    stack = desk
    set_hours(stack, ALWAYS_OPEN)
    reset(stack, SENDER)
    assert "印章类型" in text_of(stack.say(SENDER, "我要盖章"))  # a form begun: 转人工 cancels it
    queued = text_of(stack.say(SENDER, "转人工"))
    assert "已为您转接服务台" in queued and ("您是下一位" in queued or "前面还有" in queued)
    assert stack.say(SENDER, "我的打印机连不上校园网") == []  # the assistant says nothing now
    conversation = open_conversation_of(stack, PERSON)
    assert conversation["status"] == "waiting" and conversation["channel"] == "web"
    lines = transcript_texts(stack, conversation["id"])
    assert "我要盖章" in lines and "我的打印机连不上校园网" in lines  # what was said before, then after
    assert lines.index("我要盖章") < lines.index("我的打印机连不上校园网")
    console(stack, "POST", f"/conversations/{conversation['id']}/take")
    console(stack, "POST", f"/conversations/{conversation['id']}/reply", {"text": "请先重启打印机再试"})
    eventually(lambda: "服务台何婷:请先重启打印机再试" in notices_of(stack, PERSON), "staff reply in the chat panel")
    assert stack.say(SENDER, "好的,我试试") == []
    assert "好的,我试试" in transcript_texts(stack, conversation["id"])
    console(stack, "POST", f"/conversations/{conversation['id']}/hand-back")
    eventually(lambda: "已结束人工服务" in notices_of(stack, PERSON), "the hand-back told in the chat panel")
    assert "校务助手" in text_of(stack.say(SENDER, "你好"))  # the assistant answers again


def test_outside_hours_a_ticket_is_left_answered_and_notified(desk):
    stack = desk
    set_hours(stack, closed_now())
    reset(stack, SENDER)
    offered = text_of(stack.say(SENDER, "转人工"))
    assert "不在服务时间" in offered and "08:30-17:00" in offered
    assert "已记录您的留言" in text_of(stack.say(SENDER, "办公室的网络端口能不能加开一个"))
    ticket = open_ticket_of(stack, PERSON)
    assert ticket["text"] == "办公室的网络端口能不能加开一个" and ticket["channel"] == "web"
    console(stack, "POST", f"/tickets/{ticket['id']}/answer", {"answer": "可以,请在办事大厅申请网络开通"})
    eventually(lambda: "可以,请在办事大厅申请网络开通" in notices_of(stack, PERSON), "the ticket's answer notified")
    assert "校务助手" in text_of(stack.say(SENDER, "你好"))  # nothing is pending any more


def test_a_person_in_the_queue_may_leave_a_message_instead(desk):
    stack = desk
    set_hours(stack, ALWAYS_OPEN)
    reset(stack, SENDER)
    queued = stack.say(SENDER, "转人工")
    assert "改为留言" in buttons_of(queued)
    payload = next(b["payload"] for r in queued for b in r.get("buttons", []) if b["title"] == "改为留言")
    assert "请直接输入您想咨询的问题" in text_of(stack.say(SENDER, payload))
    assert all(c["user"]["username"] != PERSON for c in console(stack, "GET", "/conversations")["items"])
    assert "已记录您的留言" in text_of(stack.say(SENDER, "教室投影仪没有信号"))
    ticket = open_ticket_of(stack, PERSON)
    assert ticket["text"] == "教室投影仪没有信号"
    console(stack, "POST", f"/tickets/{ticket['id']}/close")


def test_a_new_session_keeps_relaying_while_the_help_desk_has_the_conversation(desk):
    """An hour of silence starts a new Rasa session (slots cleared): while the help desk still has the
    conversation, what the person writes next must reach the console, not the assistant."""
    stack = desk
    set_hours(stack, ALWAYS_OPEN)
    reset(stack, SENDER)
    stack.say(SENDER, "转人工")
    conversation = open_conversation_of(stack, PERSON)
    console(stack, "POST", f"/conversations/{conversation['id']}/take")
    stack.say(SENDER, "/session_start")  # what Rasa runs when the session expired
    assert stack.say(SENDER, "我还在等回复") == []
    assert "我还在等回复" in transcript_texts(stack, conversation["id"])
    console(stack, "POST", f"/conversations/{conversation['id']}/hand-back")
    stack.say(SENDER, "/session_start")  # handed back meanwhile: the assistant answers again
    assert "校务助手" in text_of(stack.say(SENDER, "你好"))
