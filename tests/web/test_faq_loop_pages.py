"""The FAQ loop as people meet it in the browser: 没帮助 in the chat panel, the 服务台 console's
未答问题 page answering that group while rewriting the answer, and the chat serving the new text
at once; an answer edited on its own page."""
from __future__ import annotations

from playwright.sync_api import Page, expect

QUESTION = "审批人退回了我该怎么办"


def open_chat(page: Page) -> None:
    page.get_by_test_id("chat-toggle").click()
    expect(page.get_by_test_id("chat-status")).to_have_attribute("data-state", "online")


def say(page: Page, text: str, expect_in_reply: str) -> None:
    page.get_by_test_id("chat-input").fill(text)
    page.get_by_test_id("chat-send").click()
    expect(page.get_by_test_id("chat-log")).to_contain_text(expect_in_reply)
    expect(page.get_by_test_id("chat-status")).to_have_attribute("data-state", "online")


def test_not_helpful_in_the_chat_is_answered_in_the_console_and_served_at_once(hall, stack):
    status, answer = stack.api("t1104", "GET", "/faq/answers/returned_what_next")
    original = answer["text"]
    try:
        person = hall.login("t2001")
        open_chat(person)
        say(person, QUESTION, original.splitlines()[0])
        person.get_by_test_id("chat-button").filter(has_text="没帮助").last.click()
        expect(person.get_by_test_id("chat-log")).to_contain_text("没能帮上忙")

        staff = hall.login("t1104")
        staff.get_by_test_id("nav-helpdesk-questions").click()
        group = staff.get_by_test_id("question-group").filter(has_text=QUESTION).first
        expect(group.get_by_test_id("answer-key")).to_have_value("faq/returned_what_next")  # the assistant's guess
        edited = "被退回后:在【我的申请】中点【编辑并重新提交】,按退回意见改好后提交。(浏览器测试改写)"
        group.get_by_test_id("answer-text").fill(edited)
        hall.shot(staff, "01-console-group")
        group.get_by_test_id("answer").click()
        expect(staff.get_by_test_id("notice")).to_contain_text("已答复")
        expect(staff.get_by_test_id("question-group").filter(has_text=QUESTION)).to_have_count(0)

        say(person, QUESTION, "(浏览器测试改写)")

        staff.get_by_test_id("tab-answers").click()
        staff.locator("[data-key='faq/returned_what_next']").get_by_test_id("edit-answer").click()
        staff.get_by_test_id("answer-text").fill(edited + "再改一次。")
        staff.get_by_test_id("save").click()
        expect(staff.get_by_test_id("notice")).to_contain_text("回答已保存")
        say(person, QUESTION, "再改一次。")
        assert hall.dialogs == []
    finally:
        stack.api("t1104", "PUT", "/faq/answers/returned_what_next", {"text": original})
