"""服务台 console pages: the nav link only for the role, the queue, a conversation taken, answered and
handed back through its forms (the person's look-up audited), tickets answered; refusals shown."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from backend.db import audit
from backend.db.models import OutboxMessage

from tests.support.backend_api import SERVICE_TOKEN
from tests.support.pages import by_testid, text_of

STAFF, OTHER_STAFF, PERSON = "t1104", "t1105", "t2001"


@pytest.fixture
def in_hours(clock):
    clock.value = datetime(2026, 12, 1, 2, 0, tzinfo=timezone.utc)  # Tuesday 10:00 in Shanghai
    return clock


async def handed_over(hall, username: str = PERSON) -> dict:
    headers = {"Authorization": f"Bearer {SERVICE_TOKEN}", "X-On-Behalf-Of": f"web:{username}"}
    status, body = await hall.api.call("POST", "/helpdesk/handoffs", headers=headers, json={"reason": "misunderstood"})
    assert status == 200 and body["conversation"], body
    await hall.api.call("POST", "/helpdesk/handoffs/messages", headers=headers, json={"text": "打印机连不上"})
    return body["conversation"]


async def test_only_the_help_desk_sees_the_console(hall):
    staff = await hall.browser(STAFF)
    assert by_testid(staff.html, "nav-helpdesk")
    person = await hall.browser(PERSON)
    assert not by_testid(person.html, "nav-helpdesk")
    await person.get("/helpdesk")
    assert person.status == 403 and "仅服务台" in person.html


async def test_a_conversation_taken_answered_and_handed_back_on_its_page(hall, in_hours, database):
    conversation = await handed_over(hall)
    browser = await hall.browser(STAFF)
    await browser.get("/helpdesk")
    [row] = by_testid(browser.html, "conversation-row")
    assert "张伟" in row["text"] and "助手没听懂" in row["text"] and "已等待 0 分钟" in row["text"]
    started = datetime.now(timezone.utc)
    page = f"/helpdesk/conversations/{conversation['id']}"
    await browser.get(page)
    assert "打印机连不上" in text_of(browser.html, "transcript") and "张伟" in text_of(browser.html, "person")
    assert [e.target for e in await audit.entries(database, username=STAFF, event="read", since=started)] \
        == [f"helpdesk_person:{PERSON}"]
    await browser.post(page, [("action", "take")])
    assert browser.status == 200 and text_of(browser.html, "notice").startswith("已接手")
    await browser.post(page, [("action", "reply"), ("text", "请重启打印机试试")])
    assert text_of(browser.html, "notice") == "已发送给对方。"
    assert "请重启打印机试试" in text_of(browser.html, "transcript")
    async with database.read() as session:
        [reply] = (await session.scalars(select(OutboxMessage).where(OutboxMessage.event == "helpdesk_reply"))).all()
    assert reply.payload["helpdesk_text"] == "请重启打印机试试"
    other = await hall.browser(OTHER_STAFF)
    await other.get(page)
    assert not by_testid(other.html, "reply")  # not theirs: no reply box
    await other.post(page, [("action", "reply"), ("text", "我也来")])
    assert other.status == 403 and "何婷" in text_of(other.html, "error")
    await browser.post(page, [("action", "reply"), ("text", "   ")])
    assert browser.status == 400 and by_testid(browser.html, "error")
    await browser.post(page, [("action", "hand_back")])
    assert text_of(browser.html, "notice").startswith("已结束人工服务")
    assert "已转回校务助手" in text_of(browser.html, "conversation-status")
    await browser.post(page, [("action", "hand_back")])
    assert browser.status == 409 and by_testid(browser.html, "error")


async def test_a_ticket_answered_on_the_tickets_page(hall, database):
    headers = {"Authorization": f"Bearer {SERVICE_TOKEN}", "X-On-Behalf-Of": f"web:{PERSON}"}
    status, ticket = await hall.api.call("POST", "/helpdesk/tickets", headers=headers, json={"text": "周末能用印吗"})
    assert status == 201
    browser = await hall.browser(STAFF)
    await browser.get("/helpdesk/tickets")
    assert text_of(browser.html, "ticket-text") == "周末能用印吗"
    await browser.post(f"/helpdesk/tickets/{ticket['id']}", [("action", "answer"), ("answer", "可以,线上提交")])
    assert browser.status == 200 and text_of(browser.html, "notice").startswith("已答复")
    assert "可以,线上提交" in text_of(browser.html, "ticket-answer")
    await browser.post(f"/helpdesk/tickets/{ticket['id']}", [("action", "answer"), ("answer", "再答")])
    assert browser.status == 409 and by_testid(browser.html, "error")
    async with database.read() as session:
        rows = (await session.scalars(select(OutboxMessage).where(OutboxMessage.event == "ticket_answered"))).all()
    assert len(rows) == 1
