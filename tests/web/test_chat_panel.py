"""The chat panel on the pages, through the backend relay to Rasa's webchat channel:
buttons, a whole submission, an approval, reconnecting after a network drop, the
session's history, the phone layout, and refused tokens."""
from __future__ import annotations

import re
import secrets
import time
from datetime import datetime, timedelta

import jwt
from playwright.sync_api import Page, expect

from devtools.stack import http

from tests.support.dates import COLLEGE_TZ as TZ, tomorrow


def open_chat(page: Page) -> None:
    page.get_by_test_id("chat-toggle").click()
    expect(page.get_by_test_id("chat-panel")).to_be_visible()
    expect(page.get_by_test_id("chat-status")).to_have_attribute("data-state", "online")


def say(page: Page, text: str, expect_in_reply: str) -> None:
    """Type a message and wait for a bot reply containing the expected text."""
    replies = page.get_by_test_id("chat-bot-message")
    before = replies.count()
    page.get_by_test_id("chat-input").fill(text)
    page.get_by_test_id("chat-send").click()
    expect(replies.nth(before)).to_be_visible()
    expect(page.get_by_test_id("chat-log")).to_contain_text(expect_in_reply)
    expect(page.get_by_test_id("chat-status")).to_have_attribute("data-state", "online")


def click_choice(page: Page, title: str, expect_in_reply: str) -> None:
    page.get_by_test_id("chat-button").filter(has_text=title).last.click()
    expect(page.get_by_test_id("chat-user-message").last).to_have_text(title)  # the title shows, not the payload
    expect(page.get_by_test_id("chat-log")).to_contain_text(expect_in_reply)
    expect(page.get_by_test_id("chat-status")).to_have_attribute("data-state", "online")


def test_the_chat_panel_submits_a_matter_and_the_approver_approves_it_by_chat(hall, stack):
    page = hall.login("t2001")
    open_chat(page)
    say(page, "我要盖章", "印章类型")
    click_choice(page, "学校公章", "文件名称")
    say(page, "网页对话合作协议", "份数")
    say(page, "两份", "用印日期")
    say(page, "明天", "用印事由")
    say(page, "网页对话测试用印", "用印文件")
    # No upload in the chat: the question links the matter's form page, where files are uploaded.
    upload_here = page.get_by_test_id("chat-link").filter(has_text="/matters/seal_usage").last
    expect(upload_here).to_have_attribute("href", "/matters/seal_usage")
    say(page, "协议.pdf", "审核人")  # a typed file name is still taken
    click_choice(page, "钱卫东(校领导)", "请确认")
    hall.shot(page, "01-chat-summary")
    click_choice(page, "确认提交", "已提交《公章使用申请》")
    number = re.search(r"SW\d{8}-\d{4}", page.get_by_test_id("chat-bot-message").last.inner_text()).group()
    status, mine = stack.api("t2001", "GET", "/applications?mine=1&limit=50")
    submitted = next(a for a in mine["items"] if a["number"] == number)
    _, detail = stack.api("t2001", "GET", f"/applications/{submitted['id']}")
    assert detail["form"]["document_name"] == "网页对话合作协议" and detail["form"]["use_date"] == tomorrow()
    assert detail["approvers"] == {"leader": "t0003"}

    # The session's history survives a page change (sessionStorage), the panel stays open.
    page.get_by_test_id("nav-applications").click()
    expect(page.get_by_test_id("chat-panel")).to_be_visible()
    expect(page.get_by_test_id("chat-log")).to_contain_text("已提交《公章使用申请》")

    approver = hall.login("t0003")
    open_chat(approver)
    say(approver, "我有什么待办", detail["number"])
    say(approver, f"同意 {detail['number']} 情况属实", "同意")
    hall.shot(approver, "02-chat-approved")
    _, after = stack.api("t2001", "GET", f"/applications/{submitted['id']}")
    leader_node = next(n for n in after["nodes"] if n["key"] == "leader")
    assert leader_node["state"] == "done"
    assert any(r["actor"]["name"] == "钱卫东" and "情况属实" in (r.get("opinion") or "") for r in after["records"])
    assert hall.dialogs == []


def test_the_panel_reconnects_after_a_network_drop_and_sends_what_was_typed(hall):
    page = hall.login("t2101")
    open_chat(page)
    page.context.set_offline(True)
    page.get_by_test_id("chat-input").fill("你好")
    page.get_by_test_id("chat-send").click()
    expect(page.get_by_test_id("chat-status")).to_have_attribute("data-state", "offline")
    expect(page.get_by_test_id("chat-status")).to_contain_text("连接中断")
    hall.shot(page, "01-offline")
    page.context.set_offline(False)
    expect(page.get_by_test_id("chat-status")).to_have_attribute("data-state", "online")
    # The greeting's menu arrived: the message typed while offline was delivered, once.
    expect(page.get_by_test_id("chat-button").filter(has_text="我的申请")).to_have_count(1)
    expect(page.get_by_test_id("chat-user-message").filter(has_text="你好")).to_have_count(1)


def test_on_a_phone_the_open_chat_fills_the_screen_and_bot_text_is_never_html(hall):
    page = hall.login("t2102", phone=True)
    open_chat(page)
    box = page.get_by_test_id("chat-panel").bounding_box()
    assert box is not None and box["width"] == 390 and box["height"] == 844
    payload = '<img src=x onerror="alert(1)">'
    page.get_by_test_id("chat-input").fill(payload)
    page.get_by_test_id("chat-send").click()
    expect(page.get_by_test_id("chat-user-message").last).to_have_text(payload)
    expect(page.get_by_test_id("chat-bot-message").nth(1)).to_be_visible()
    assert page.get_by_test_id("chat-log").locator("img").count() == 0
    hall.shot(page, "01-phone-chat")
    page.get_by_test_id("chat-close").click()
    expect(page.get_by_test_id("chat-panel")).to_be_hidden()
    assert hall.dialogs == []


def test_a_forged_chat_token_is_refused_at_the_channel_and_at_the_relay(hall, stack):
    forged = jwt.encode({"sub": "1", "usr": "t0001", "aud": "webchat", "iss": "campus-affairs",
                         "exp": int(time.time()) + 600}, secrets.token_urlsafe(48), algorithm="HS256")
    status, body = http("POST", f"http://127.0.0.1:{stack.ports['rasa']}/webhooks/webchat/webhook",
                        {"token": forged, "message": "我有什么待办"})
    assert status == 401 and body["error"]["code"] == "invalid_token"

    page = hall.login("t2103")
    csrf = page.locator('meta[name="csrf-token"]').get_attribute("content")
    headers = {"X-CSRF-Token": csrf, "Accept": "application/json"}
    answer = page.request.post("/web/chat/send", headers=headers, data={"token": forged, "message": "你好"})
    assert answer.status == 401 and answer.json()["error"]["code"] == "chat_token_invalid"

    # A real token of another user is refused by the relay too: the session decides who talks.
    other = hall.login("t2102")
    other_csrf = other.locator('meta[name="csrf-token"]').get_attribute("content")
    their_token = other.request.post("/web/chat/token", headers={"X-CSRF-Token": other_csrf,
                                                                 "Accept": "application/json"}).json()["token"]
    answer = page.request.post("/web/chat/send", headers=headers, data={"token": their_token, "message": "你好"})
    assert answer.status == 401

    # Without the CSRF header no token is issued; without a session neither.
    assert page.request.post("/web/chat/token", headers={"Accept": "application/json"}).status == 403
    anonymous = hall.page()
    assert anonymous.request.post(f"{hall.base}/web/chat/token", headers={"Accept": "application/json"}).status in (401, 403)
    mine = page.request.post("/web/chat/token", headers=headers).json()
    assert mine["username"] == "t2103" and mine["expires_in"] == 600


def test_progress_links_in_bot_text_open_in_the_hall_on_this_site_only(hall, stack):
    _, mine = stack.api("t2001", "GET", "/applications?mine=1&limit=1")
    page = hall.login("t2001")
    open_chat(page)
    # A bot message as the panel keeps it in the session's history (the bot's own wording
    # varies); the link text arrives with a foreign host, which must not survive.
    application_id = mine["items"][0]["id"] if mine["items"] else 1
    page.evaluate("""id => sessionStorage.setItem("webchat:history:t2001", JSON.stringify([{from: "bot", id: "x",
        text: "进度详情:https://evil.example/applications/" + id + "/progress 请查看"}]))""", application_id)
    page.reload()
    link = page.get_by_test_id("chat-link")
    expect(link).to_have_attribute("href", f"/applications/{application_id}/progress")
    expect(page.get_by_test_id("chat-log")).to_contain_text("请查看")
    link.click()
    expect(page).to_have_url(f"{hall.base}/applications/{application_id}/progress")
    expect(page.get_by_test_id("chat-panel")).to_be_hidden()  # the hall page is shown, not covered
    assert len(page.context.pages) == 1


def student_leave(stack, username: str) -> dict:
    start = datetime.now(TZ) + timedelta(days=2)
    status, body = stack.api(username, "POST", "/applications", {"matter": "student_leave", "form": {
        "leave_type": "事假", "start_time": start.strftime("%Y-%m-%d 08:00"), "end_time": start.strftime("%Y-%m-%d 18:00"),
        "days": 1, "leave_school": "否", "emergency_contact": "许父 13800000000", "reason": "家中有事"}})
    assert status == 201, body
    return body


def approve_current(stack, approver: str, application: dict) -> None:
    _, tasks = stack.api(approver, "GET", "/tasks?status=pending&limit=50")
    task = next(t for t in tasks["items"] if t["number"] == application["number"])
    status, body = stack.api(approver, "POST", f"/tasks/{task['id']}/approve", {"opinion": "同意"})
    assert status == 200, body


def test_someone_without_wecom_gets_notifications_in_the_panel_live_or_when_it_opens(hall, stack):
    """许嘉怡 (s20240102) has no WeCom id: the notifier tells her in the web chat."""
    stack.env.update({"NOTIFY_POLL_SECONDS": "0.5", "NOTIFY_BACKOFF_SECONDS": "1"})
    stack.start_notifier()
    try:
        page = hall.login("s20240102")
        open_chat(page)
        leave = student_leave(stack, "s20240102")
        approve_current(stack, "t2102", leave)  # 辅导员 → on to 系部负责人: she is told, live
        expect(page.get_by_test_id("chat-log")).to_contain_text(f"{leave['number']}已通过「辅导员审批」")
        hall.shot(page, "01-live-notice")
        page.get_by_test_id("chat-close").click()
        approve_current(stack, "t2101", leave)  # the panel is closed: counted on the toggle
        expect(page.get_by_test_id("chat-toggle")).to_have_attribute("data-unread", "1")
        page.get_by_test_id("chat-toggle").click()
        expect(page.get_by_test_id("chat-log")).to_contain_text("已全部审批通过")
        expect(page.get_by_test_id("chat-toggle")).to_have_attribute("data-unread", "")
        # Shown once: marked read on the server, and a reload draws it from the history only.
        # The panel marks it read with a request of its own: wait for that, not for a fixed time.
        deadline = time.monotonic() + 10
        while (unread := stack.api("s20240102", "GET", "/notifications?unread=1")[1]["items"]) \
                and time.monotonic() < deadline:
            time.sleep(0.1)
        assert unread == []
        page.reload()
        expect(page.get_by_test_id("chat-log")).to_contain_text("已全部审批通过")
        assert page.get_by_test_id("chat-log").inner_text().count("已全部审批通过") == 1
        assert hall.dialogs == []
    finally:
        stack.stop("notifier")
