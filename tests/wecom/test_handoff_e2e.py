"""转人工 in WeCom (the simulator, through the gateway and Rasa's wecom channel): the staff reply
arrives as a WeCom message in the person's chat, the assistant stays silent meanwhile and answers
again after the hand-back; a ticket left outside service hours is answered in WeCom."""
from __future__ import annotations

from typing import Iterator

import pytest

from devtools.stack import Stack

from tests.support.helpdesk import (ALWAYS_OPEN, closed_now, console, eventually, help_desk, open_conversation_of,
                                    open_ticket_of, set_hours, transcript_texts)
from tests.support.wecom import content_of, last_id, say, sent_to

PERSON, USERID = "t1204", "liming"  # 李明


@pytest.fixture(scope="module")
def desk(wecom_stack: Stack) -> Iterator[Stack]:
    with help_desk(wecom_stack) as running:
        yield running


def arrived(stack: Stack, after: int, text: str) -> str:
    """What reached the person after message ``after``, once ``text`` is among it."""
    def found() -> str:
        sent = content_of(sent_to(stack, USERID, after))
        return sent if text in sent else ""

    return eventually(found, f"{text!r} in WeCom")


def test_a_wecom_chat_handed_to_the_help_desk_and_back(desk):
    stack = desk
    set_hours(stack, ALWAYS_OPEN)
    queued = content_of(say(stack, USERID, "转人工"))
    assert "已为您转接服务台" in queued
    mark = last_id(stack, USERID)
    status, delivery = stack.sim("POST", "say", {"userid": USERID, "text": "企业微信里看不到待办卡片"})
    assert status == 200 and delivery["statuses"] == [200], delivery
    conversation = open_conversation_of(stack, PERSON)
    assert conversation["channel"] == "wecom" and conversation["sender"] == f"wecom:{USERID}"
    eventually(lambda: "企业微信里看不到待办卡片" in transcript_texts(stack, conversation["id"]), "the message in the console")
    console(stack, "POST", f"/conversations/{conversation['id']}/take")
    console(stack, "POST", f"/conversations/{conversation['id']}/reply", {"text": "请退出企业微信后重新登录"})
    arrived(stack, mark, "请退出企业微信后重新登录")
    console(stack, "POST", f"/conversations/{conversation['id']}/hand-back")
    arrived(stack, mark, "已结束人工服务")
    # One conversation's turns run in order: an answer to 「企业微信里看不到待办卡片」 would have come
    # before the staff reply. All that came: the reply and the hand-back.
    sent = sent_to(stack, USERID, mark)
    assert len(sent) == 2, sent
    assert "请退出企业微信后重新登录" in content_of(sent[:1]) and "已结束人工服务" in content_of(sent[1:])
    assert "您好,我是校务助手" in content_of(say(stack, USERID, "你好"))  # the assistant answers again

def test_outside_hours_a_wecom_ticket_is_answered_in_wecom(desk):
    stack = desk
    set_hours(stack, closed_now())
    offered = content_of(say(stack, USERID, "转人工"))
    assert "不在服务时间" in offered
    assert "已记录您的留言" in content_of(say(stack, USERID, "打印机驱动在哪里下载"))
    ticket = open_ticket_of(stack, PERSON)
    assert ticket["channel"] == "wecom"
    mark = last_id(stack, USERID)
    console(stack, "POST", f"/tickets/{ticket['id']}/answer", {"answer": "在图信中心网站的下载专区"})
    assert "在图信中心网站的下载专区" in arrived(stack, mark, "在图信中心网站的下载专区")
