"""转人工 in the hall's chat panel (backend relay → Rasa's webchat channel) and the console in a second
browser: the person is queued, what they type reaches the conversation page and the assistant says
nothing, 何婷 takes it and replies on the page, the reply and the hand-back appear live in the panel,
then the assistant answers again. The console's queue and conversation pages keep themselves current
(a newcomer in the queue, the person's next line) without touching what staff are typing."""
from __future__ import annotations

from typing import Iterator

import pytest
from playwright.sync_api import expect

from devtools.stack import Stack

from tests.support.helpdesk import STAFF, eventually, help_desk, open_conversation_of, transcript_texts

PERSON = "t1202"  # 孙丽娟


@pytest.fixture(scope="module")
def desk(stack: Stack) -> Iterator[Stack]:
    with help_desk(stack) as running:
        yield running


def test_a_chat_panel_handed_to_the_console_and_back(hall, desk):
    console = hall.login(STAFF)  # the console open before: the queue shows the newcomer by itself
    console.get_by_test_id("nav-helpdesk").click()
    page = hall.login(PERSON)
    page.get_by_test_id("chat-toggle").click()
    expect(page.get_by_test_id("chat-status")).to_have_attribute("data-state", "online")
    send(page, "转人工")
    expect(page.get_by_test_id("chat-log")).to_contain_text("已为您转接服务台")
    replies = page.get_by_test_id("chat-bot-message").count()
    send(page, "我的校园卡丢了怎么补办")
    conversation = open_conversation_of(desk, PERSON)
    eventually(lambda: "我的校园卡丢了怎么补办" in transcript_texts(desk, conversation["id"]), "the message in the console")
    expect(page.get_by_test_id("chat-status")).to_have_attribute("data-state", "online")
    assert page.get_by_test_id("chat-bot-message").count() == replies  # the assistant said nothing

    row = console.get_by_test_id("waiting-list").locator(f'[data-conversation-id="{conversation["id"]}"]')
    expect(row).to_contain_text("孙丽娟", timeout=20_000)  # no reload: the queue refreshes itself
    row.get_by_test_id("conversation-link").click()
    expect(console.get_by_test_id("transcript")).to_contain_text("我的校园卡丢了怎么补办")
    expect(console.get_by_test_id("person")).to_contain_text("孙丽娟")
    console.get_by_test_id("take").click()
    console.get_by_test_id("reply-text").fill("请带身份证到图信中心补办")
    console.get_by_test_id("reply").click()
    expect(console.get_by_test_id("notice")).to_have_text("已发送给对方。")
    expect(page.get_by_test_id("chat-log")).to_contain_text("服务台何婷:请带身份证到图信中心补办", timeout=90_000)
    # The person writes again while 何婷 is typing: the line shows up, the draft stays.
    console.get_by_test_id("reply-text").fill("稍等,我查一下")
    send(page, "补办要多久")
    expect(console.get_by_test_id("transcript")).to_contain_text("补办要多久", timeout=20_000)
    expect(console.get_by_test_id("reply-text")).to_have_value("稍等,我查一下")
    hall.shot(console, "01-console")
    console.get_by_test_id("hand-back").click()
    expect(console.get_by_test_id("conversation-status")).to_contain_text("已转回校务助手")
    expect(page.get_by_test_id("chat-log")).to_contain_text("已结束人工服务", timeout=90_000)
    hall.shot(page, "02-panel")
    send(page, "你好")
    expect(page.get_by_test_id("chat-bot-message").last).to_contain_text("校务助手")


def send(page, text: str) -> None:
    page.get_by_test_id("chat-input").fill(text)
    page.get_by_test_id("chat-send").click()
    expect(page.get_by_test_id("chat-user-message").last).to_have_text(text)
