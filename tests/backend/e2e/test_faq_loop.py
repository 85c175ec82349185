"""The FAQ loop over real HTTP on SQLite and PostgreSQL: answer texts read by key and edited by
服务台 staff, unanswered questions recorded on a person's behalf, grouped for the console and
answered there — and every bad request refused with nothing changed."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from backend.catalog.faq import DOMAIN_DIR, FAQ_DOMAIN, domain_answers, import_faq
from backend.db.models import HelpdeskConversation, HelpdeskTicket, User

STAFF = "t1104"  # 何婷, 服务台
ASKER = "t2001"


@pytest.fixture(autouse=True)
async def answers(database):
    """The answers as import-faq loads them (the runtime wipe empties the table)."""
    async with database.write() as session:
        await import_faq(session, DOMAIN_DIR / FAQ_DOMAIN, datetime.now(timezone.utc))
    return domain_answers(DOMAIN_DIR / FAQ_DOMAIN)


async def ask(api, service_headers, text, kind="fallback", who="wecom:zhangwei", **extra):
    status, body = await api.call("POST", "/faq/questions", headers=service_headers(who),
                                  json={"text": text, "kind": kind, **extra})
    assert status == 201, body
    return body["id"]


async def open_groups(api):
    return (await api.get("/helpdesk/questions", STAFF))["groups"]


async def test_the_assistant_reads_an_answer_by_key_on_a_persons_behalf(api, service_headers, answers):
    found = await api.get("/faq/answers/returned_what_next", headers=service_headers("web:t2001"))
    assert found["key"] == "faq/returned_what_next" and found["text"] == answers["faq/returned_what_next"]
    assert found["edited"] is False
    listed = (await api.get("/faq/answers", ASKER))["items"]
    assert {a["key"] for a in listed} == set(answers)


async def test_an_answered_question_is_recorded_and_comes_back_with_its_answer(api, service_headers, answers):
    """The assistant's one round trip per answer: the record and the key's text, edits included."""
    status, _ = await api.call("PUT", "/faq/answers/returned_what_next", STAFF, json={"text": "改过的回答"})
    assert status == 200
    for kind, confidence in (("answered", 0.93), ("low_confidence", 0.31)):
        status, body = await api.call("POST", "/faq/questions", headers=service_headers("web:t2001"), json={
            "text": "被退回了怎么办", "kind": kind, "predicted_key": "faq/returned_what_next", "confidence": confidence})
        assert status == 201 and body["id"] > 0, body
        assert (body["answer"]["key"], body["answer"]["text"], body["answer"]["edited"]) == (
            "faq/returned_what_next", "改过的回答", True)
    # not answered with a key, or a key not held (not imported yet): no text, still recorded
    for extra in ({"kind": "not_helpful", "predicted_key": "faq/returned_what_next"},
                  {"kind": "answered", "predicted_key": "faq/no_such_answer"}, {"kind": "fallback"}):
        status, body = await api.call("POST", "/faq/questions", headers=service_headers("web:t2001"),
                                      json={"text": "被退回了怎么办", **extra})
        assert status == 201 and body["answer"] is None, (extra, body)
    groups = await open_groups(api)  # answered ones are counted weekly, not listed for answering
    assert [(g["count"], g["kinds"]) for g in groups] == [
        (3, {"low_confidence": 1, "not_helpful": 1, "fallback": 1})], groups


async def test_an_unknown_answer_key_is_not_found(api):
    for name in ("no_such_answer", "Open_Site", "open-site"):
        status, body = await api.call("GET", f"/faq/answers/{name}", ASKER)
        assert (status, body["error"]["code"]) == (404, "faq_answer_not_found")
    status, _ = await api.call("PUT", "/faq/answers/no_such_answer", STAFF, json={"text": "新回答"})
    assert status == 404


async def test_staff_edit_an_answer_and_it_is_served_at_once(api, service_headers):
    edited = await api.call("PUT", "/faq/answers/open_site", STAFF, json={"text": "  新的打开方式:work.zj-art.com  "})
    assert edited[0] == 200 and edited[1]["text"] == "新的打开方式:work.zj-art.com" and edited[1]["edited"] is True
    served = await api.get("/faq/answers/open_site", headers=service_headers("wecom:zhangwei"))
    assert served["text"] == "新的打开方式:work.zj-art.com"


async def test_only_helpdesk_staff_edit_answers_or_see_questions(api, answers):
    for user in (ASKER, "t0002"):
        status, body = await api.call("PUT", "/faq/answers/open_site", user, json={"text": "改掉"})
        assert (status, body["error"]["code"]) == (403, "helpdesk_only")
        assert (await api.call("GET", "/helpdesk/questions", user))[0] == 403
        status, _ = await api.call("POST", "/helpdesk/questions/answer", user,
                                   json={"questions": [1], "key": "faq/open_site"})
        assert status == 403
    assert (await api.get("/faq/answers/open_site", STAFF))["text"] == answers["faq/open_site"]


@pytest.mark.parametrize("body, code", [
    ({}, "bad_text"), ({"text": ""}, "bad_text"), ({"text": "   "}, "bad_text"), ({"text": 5}, "bad_text"),
    ({"text": "字" * 4001}, "bad_text"),
])
async def test_a_bad_answer_text_is_refused_and_nothing_changes(api, answers, body, code):
    status, answer = await api.call("PUT", "/faq/answers/open_site", STAFF, json=body)
    assert (status, answer["error"]["code"]) == (400, code)
    assert (await api.get("/faq/answers/open_site", STAFF))["text"] == answers["faq/open_site"]


async def test_malformed_json_is_refused(api, service_headers):
    status, body = await api.call("PUT", "/faq/answers/open_site", STAFF, data=b"{not json",
                                  headers={"Content-Type": "application/json"})
    assert (status, body["error"]["code"]) == (400, "bad_json")
    status, body = await api.call("POST", "/faq/questions", data=b"[1]", headers=service_headers("web:t2001"))
    assert (status, body["error"]["code"]) == (400, "bad_json")
    assert await open_groups(api) == []


@pytest.mark.parametrize("body, code", [
    ({"kind": "fallback"}, "bad_text"), ({"text": " ", "kind": "fallback"}, "bad_text"),
    ({"text": "字" * 501, "kind": "fallback"}, "bad_text"),
    ({"text": "怎么请假"}, "bad_kind"), ({"text": "怎么请假", "kind": "other"}, "bad_kind"),
    ({"text": "怎么请假", "kind": "low_confidence", "predicted_key": "open_site"}, "bad_key"),
    ({"text": "怎么请假", "kind": "low_confidence", "confidence": 1.5}, "bad_confidence"),
    ({"text": "怎么请假", "kind": "low_confidence", "confidence": True}, "bad_confidence"),
])
async def test_a_bad_question_is_refused_and_nothing_is_recorded(api, service_headers, body, code):
    status, answer = await api.call("POST", "/faq/questions", headers=service_headers("wecom:zhangwei"), json=body)
    assert (status, answer["error"]["code"]) == (400, code)
    assert await open_groups(api) == []


async def test_questions_are_recorded_with_channel_and_grouped_with_counts(api, service_headers):
    first = await ask(api, service_headers, "企业微信怎么绑定", who="wecom:zhangwei")
    await ask(api, service_headers, "怎么请假")
    second = await ask(api, service_headers, "怎么绑定企业微信?", who="web:t2001", kind="not_helpful",
                       predicted_key="faq/wecom_bind", confidence=0.9)
    third = await ask(api, service_headers, "企业微信如何绑定呢", kind="low_confidence",
                      predicted_key="faq/wecom_bind", confidence=0.31)
    await ask(api, service_headers, "今日校园怎么绑定")
    groups = await open_groups(api)
    assert [(g["text"], g["count"]) for g in groups] == [
        ("企业微信怎么绑定", 3), ("怎么请假", 1), ("今日校园怎么绑定", 1)]
    wecom = groups[0]
    assert wecom["id"] == first and wecom["question_ids"] == [first, second, third]
    assert wecom["channels"] == {"wecom": 2, "web": 1}
    assert wecom["kinds"] == {"fallback": 1, "not_helpful": 1, "low_confidence": 1}
    assert wecom["predicted_key"] == "faq/wecom_bind"
    assert [q["asker"] for q in wecom["questions"]] == ["张伟"] * 3


async def test_staff_answer_a_group_with_an_existing_answer(api, service_headers):
    ids = [await ask(api, service_headers, text) for text in ("被退回了怎么办", "被退回了怎么办?")]
    other = await ask(api, service_headers, "食堂几点开门")
    answered = await api.post("/helpdesk/questions/answer", STAFF,
                              json={"questions": ids, "key": "faq/returned_what_next"})
    assert answered["answered"] == 2 and answered["answer"]["key"] == "faq/returned_what_next"
    assert [g["question_ids"] for g in await open_groups(api)] == [[other]]
    done = (await api.get("/helpdesk/questions?state=answered", STAFF))["groups"]
    assert [(g["question_ids"], g["questions"][0]["answer_key"]) for g in done] == [(ids, "faq/returned_what_next")]


async def test_staff_answer_a_group_with_a_new_answer(api, service_headers):
    question = await ask(api, service_headers, "食堂几点开门")
    body = {"questions": [question], "key": "faq/canteen_hours", "text": "食堂开放时间请见后勤处通知。"}
    answered = await api.post("/helpdesk/questions/answer", STAFF, json=body)
    assert answered["answer"] == {**answered["answer"], "key": "faq/canteen_hours", "edited": True}
    assert (await api.get("/faq/answers/canteen_hours", ASKER))["text"] == "食堂开放时间请见后勤处通知。"


async def test_answering_unknown_or_answered_questions_changes_nothing(api, service_headers, answers):
    question = await ask(api, service_headers, "食堂几点开门")
    cases = [
        ({"questions": [question, 999999], "key": "faq/open_site", "text": "改写"}, 404, "faq_question_not_found"),
        ({"questions": [question], "key": "faq/no_such_answer"}, 404, "faq_answer_not_found"),
        ({"questions": [], "key": "faq/open_site"}, 400, "bad_questions"),
        ({"questions": ["1"], "key": "faq/open_site"}, 400, "bad_questions"),
        ({"questions": [question], "key": "open_site"}, 400, "bad_key"),
        ({"questions": [question], "key": "faq/open_site", "text": " "}, 400, "bad_text"),
    ]
    for body, status, code in cases:
        got = await api.call("POST", "/helpdesk/questions/answer", STAFF, json=body)
        assert (got[0], got[1]["error"]["code"]) == (status, code), body
    assert (await api.get("/faq/answers/open_site", STAFF))["text"] == answers["faq/open_site"]
    assert [g["question_ids"] for g in await open_groups(api)] == [[question]]
    await api.post("/helpdesk/questions/answer", STAFF, json={"questions": [question], "key": "faq/open_site"})
    again = await api.call("POST", "/helpdesk/questions/answer", STAFF,
                           json={"questions": [question], "key": "faq/open_site", "text": "改写"})
    assert (again[0], again[1]["error"]["code"]) == (409, "faq_question_answered")
    assert (await api.get("/faq/answers/open_site", STAFF))["text"] == answers["faq/open_site"]


async def test_weekly_figures_count_questions_answers_handoffs_tickets_and_the_median_wait(
        api, service_headers, database, clock):
    # Wednesday 2026-11-25 10:00 in Shanghai; the week before starts Monday 2026-11-16.
    clock.value = datetime(2026, 11, 25, 2, 0, tzinfo=timezone.utc)
    for kind in ("answered", "answered", "answered", "low_confidence", "fallback", "not_helpful"):
        await ask(api, service_headers, "怎么请假", kind=kind)
    clock.value = datetime(2026, 11, 17, 2, 0, tzinfo=timezone.utc)
    await ask(api, service_headers, "食堂几点开门")
    async with database.write() as session:
        asker = await session.scalar(select(User.id).where(User.username == ASKER))
        opened = datetime(2026, 11, 24, 1, 0, tzinfo=timezone.utc)  # Tuesday 09:00 in Shanghai
        for n, waited in enumerate((4, 10, 30, None)):
            session.add(HelpdeskConversation(
                sender=f"web:{ASKER}", user_id=asker, channel="web", reason="request", open_for=None,
                status="active" if waited is not None else "closed", created_at=opened + timedelta(hours=n),
                taken_at=opened + timedelta(hours=n, minutes=waited) if waited is not None else None))
        session.add(HelpdeskTicket(user_id=asker, channel="wecom", text="打印机驱动在哪", status="open",
                                   created_at=opened))
    clock.value = datetime(2026, 11, 26, 2, 0, tzinfo=timezone.utc)
    weeks = (await api.get("/helpdesk/questions/weekly", STAFF))["weeks"]
    assert len(weeks) == 8 and [w["week"] for w in weeks[:2]] == ["2026-11-23", "2026-11-16"]
    assert weeks[0] == {"week": "2026-11-23", "questions": 5, "answered_by_assistant": 3, "handed_off": 4,
                        "tickets": 1, "median_wait_minutes": 10.0}
    assert weeks[1] == {"week": "2026-11-16", "questions": 1, "answered_by_assistant": 0, "handed_off": 0,
                        "tickets": 0, "median_wait_minutes": None}
    assert (await api.call("GET", "/helpdesk/questions/weekly", ASKER))[0] == 403
    # Answers the assistant was sure of are counted, never listed for staff.
    assert [(g["text"], g["count"]) for g in await open_groups(api)] == [("怎么请假", 3), ("食堂几点开门", 1)]


async def test_importing_again_adds_only_missing_answers_and_keeps_staff_edits(api, database, answers):
    await api.call("PUT", "/faq/answers/open_site", STAFF, json={"text": "服务台改过的"})
    async with database.write() as session:
        again = await import_faq(session, DOMAIN_DIR / FAQ_DOMAIN, datetime.now(timezone.utc))
    assert again == (0, len(answers))
    assert (await api.get("/faq/answers/open_site", STAFF))["text"] == "服务台改过的"
