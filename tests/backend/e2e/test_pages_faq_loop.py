"""The 服务台 console's unanswered-question pages over real HTTP: grouped questions answered with
an existing answer or a new one, answer texts edited, refusals shown on the page, other people kept out."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from backend.catalog.faq import DOMAIN_DIR, FAQ_DOMAIN, import_faq

from tests.support.backend_api import SERVICE_TOKEN
from tests.support.pages import by_testid, text_of

STAFF = "t1104"


@pytest.fixture(autouse=True)
async def answers(database):
    async with database.write() as session:
        await import_faq(session, DOMAIN_DIR / FAQ_DOMAIN, datetime.now(timezone.utc))


async def ask(hall, text, who="wecom:zhangwei"):
    headers = {"Authorization": f"Bearer {SERVICE_TOKEN}", "X-On-Behalf-Of": who}
    return (await hall.api.post("/faq/questions", json={"text": text, "kind": "fallback"}, headers=headers,
                                expect=201))["id"]


async def test_the_console_shows_groups_and_answers_one_with_an_existing_answer(hall):
    ids = [await ask(hall, "企业微信怎么绑定"), await ask(hall, "怎么绑定企业微信", who="web:t2001")]
    other = await ask(hall, "食堂几点开门")
    browser = await hall.browser(STAFF)
    assert by_testid(browser.html, "nav-helpdesk-questions")
    await browser.get("/helpdesk/questions")
    groups = by_testid(browser.html, "question-group")
    assert [(g["attrs"]["data-group-id"], g["attrs"]["data-count"]) for g in groups] == [
        (str(ids[0]), "2"), (str(other), "1")]
    assert "企业微信" in groups[0]["text"] and "网页" in groups[0]["text"]
    weeks = by_testid(browser.html, "week-row")
    assert len(weeks) == 8 and text_of(browser.html, "week-questions") == "3"  # this week's three fallbacks
    await browser.post("/helpdesk/questions/answer",
                       [("questions", str(i)) for i in ids] + [("key", "faq/wecom_identity"), ("new_name", ""),
                                                               ("text", "")])
    assert browser.status == 200 and text_of(browser.html, "notice").startswith("已答复")
    assert [g["attrs"]["data-group-id"] for g in by_testid(browser.html, "question-group")] == [str(other)]
    answered = (await hall.api.get("/helpdesk/questions?state=answered", STAFF))["groups"]
    assert answered[0]["question_ids"] == ids and answered[0]["questions"][0]["answer_key"] == "faq/wecom_identity"


async def test_a_group_answered_with_a_new_answer(hall):
    question = await ask(hall, "食堂几点开门")
    browser = await hall.browser(STAFF)
    await browser.get("/helpdesk/questions")
    await browser.post("/helpdesk/questions/answer", [("questions", str(question)), ("key", "faq/open_site"),
                                                      ("new_name", "canteen_hours"), ("text", "请看后勤处通知。")])
    assert text_of(browser.html, "notice").startswith("已答复")
    assert (await hall.api.get("/faq/answers/canteen_hours", "t2001"))["text"] == "请看后勤处通知。"
    assert (await hall.api.get("/faq/answers/open_site", "t2001"))["edited"] is False


async def test_a_refused_answer_is_shown_and_nothing_changes(hall):
    question = await ask(hall, "食堂几点开门")
    browser = await hall.browser(STAFF)
    await browser.get("/helpdesk/questions")
    await browser.post("/helpdesk/questions/answer", [("questions", str(question)), ("key", "faq/open_site"),
                                                      ("new_name", "Canteen Hours"), ("text", "请看后勤处通知。")])
    assert browser.status == 400 and by_testid(browser.html, "error")
    kept = by_testid(browser.html, "new-name")[0]["attrs"]["value"]
    assert kept == "Canteen Hours" and "请看后勤处通知。" in text_of(browser.html, "answer-text")
    await browser.post("/helpdesk/questions/answer", [("questions", str(question)), ("key", "faq/open_site"),
                                                      ("new_name", "canteen_hours"), ("text", " ")])
    assert browser.status == 400
    groups = (await hall.api.get("/helpdesk/questions", STAFF))["groups"]
    assert [g["question_ids"] for g in groups] == [[question]]
    assert (await hall.api.call("GET", "/faq/answers/canteen_hours", "t2001"))[0] == 404


async def test_staff_edit_an_answer_text_and_an_empty_one_is_refused(hall):
    browser = await hall.browser(STAFF)
    await browser.get("/helpdesk/answers")
    assert "faq/returned_what_next" in [r["attrs"]["data-key"] for r in by_testid(browser.html, "answer-row")]
    await browser.get("/helpdesk/answers/returned_what_next")
    await browser.post("/helpdesk/answers/returned_what_next", [("text", "   ")])
    assert browser.status == 400 and by_testid(browser.html, "error")
    await browser.post("/helpdesk/answers/returned_what_next", [("text", "在【我的申请】里点【编辑并重新提交】。")])
    assert browser.status == 200 and text_of(browser.html, "notice").startswith("回答已保存")
    served = await hall.api.get("/faq/answers/returned_what_next", "t2001")
    assert served == {**served, "text": "在【我的申请】里点【编辑并重新提交】。", "edited": True}
    await browser.get("/helpdesk/answers/no_such_answer")
    assert browser.status == 404


async def test_only_helpdesk_staff_see_the_console(hall):
    await ask(hall, "食堂几点开门")
    browser = await hall.browser("t2001")
    assert not by_testid(browser.html, "nav-helpdesk-questions")
    for path in ("/helpdesk/questions", "/helpdesk/answers", "/helpdesk/answers/open_site"):
        await browser.get(path)
        assert browser.status == 403, path
    await browser.get("/")
    await browser.post("/helpdesk/answers/open_site", [("text", "改掉")])
    assert browser.status == 403
    assert (await hall.api.get("/faq/answers/open_site", "t2001"))["edited"] is False
