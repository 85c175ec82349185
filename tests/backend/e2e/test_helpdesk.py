"""The help desk over HTTP on SQLite and PostgreSQL: the assistant hands a conversation over (on
the person's behalf), 服务台 staff take, answer and hand it back; tickets left and answered. Every
message that must reach the person is an outbox row written with the change."""
from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from backend.db import audit
from backend.db.models import HelpdeskConversation, OutboxMessage

STAFF, OTHER_STAFF, PERSON, SECOND = "t1104", "t1105", "t2001", "t1203"
TUESDAY_10AM = datetime(2026, 12, 1, 2, 0, tzinfo=timezone.utc)  # 10:00 in Shanghai, within mon-fri 08:30-17:00
SUNDAY = datetime(2026, 12, 6, 2, 0, tzinfo=timezone.utc)


@pytest.fixture
def in_hours(clock):
    clock.value = TUESDAY_10AM
    return clock


async def as_person(api, service_headers, method: str, path: str, username: str = PERSON, **kwargs):
    return await api.call(method, f"/helpdesk{path}", headers=service_headers(f"web:{username}"), **kwargs)


async def hand_over(api, service_headers, username: str = PERSON, reason: str = "request") -> dict:
    status, body = await as_person(api, service_headers, "POST", "/handoffs", username, json={"reason": reason})
    assert status == 200 and body["open"], body
    return body["conversation"]


async def outbox_rows(database, event: str) -> list[OutboxMessage]:
    async with database.read() as session:
        return list(await session.scalars(select(OutboxMessage).where(OutboxMessage.event == event)))


async def test_a_handoff_in_hours_joins_the_queue_with_its_place(api, service_headers, in_hours):
    first = await hand_over(api, service_headers)
    assert first["status"] == "waiting" and first["position"] == 0 and first["sender"] == f"web:{PERSON}"
    in_hours.advance(seconds=5)
    second = await hand_over(api, service_headers, SECOND, "misunderstood")
    assert second["position"] == 1 and second["reason"] == "misunderstood"
    again = await hand_over(api, service_headers)  # asking twice keeps the place
    assert again["id"] == first["id"] and again["position"] == 0
    queue = (await api.get("/helpdesk/conversations", STAFF))["items"]
    assert [c["id"] for c in queue] == [first["id"], second["id"]]


async def test_outside_hours_nothing_joins_and_a_ticket_is_offered(api, service_headers, clock, database):
    clock.value = SUNDAY
    status, body = await as_person(api, service_headers, "POST", "/handoffs", json={})
    assert status == 200 and body["open"] is False and body["conversation"] is None
    assert body["hours"] == "周一至周五 08:30-17:00"
    async with database.read() as session:
        assert (await session.scalars(select(HelpdeskConversation))).all() == []


async def test_only_the_assistant_hands_over_and_only_the_help_desk_sees_the_console(api, service_headers, in_hours):
    status, body = await api.call("POST", "/helpdesk/handoffs", PERSON, json={})
    assert status == 403 and body["error"]["code"] == "assistant_only"
    conversation = await hand_over(api, service_headers)
    for method, path in [("GET", "/conversations"), ("GET", f"/conversations/{conversation['id']}"),
                         ("POST", f"/conversations/{conversation['id']}/take"), ("GET", "/tickets"),
                         ("GET", f"/conversations/{conversation['id']}/person")]:
        status, body = await api.call(method, f"/helpdesk{path}", PERSON)
        assert status == 403 and body["error"]["code"] == "helpdesk_only", (path, body)


async def test_of_two_staff_taking_at_once_one_wins(api, service_headers, in_hours):
    conversation = await hand_over(api, service_headers)
    path = f"/helpdesk/conversations/{conversation['id']}/take"
    results = await asyncio.gather(api.call("POST", path, STAFF), api.call("POST", path, OTHER_STAFF))
    statuses = sorted(status for status, _ in results)
    assert statuses == [200, 409], results
    winner = next(body for status, body in results if status == 200)
    loser = next(body for status, body in results if status == 409)
    assert loser["error"]["code"] == "already_taken" and winner["taken_by"]["name"] in loser["error"]["message"]


async def test_a_conversation_from_handoff_to_back_to_the_assistant(api, service_headers, in_hours, database):
    conversation = await hand_over(api, service_headers)
    base = f"/helpdesk/conversations/{conversation['id']}"
    status, body = await api.call("POST", f"{base}/reply", STAFF, json={"text": "您好"})
    assert status == 409 and body["error"]["code"] == "not_taken"
    await api.post(f"{base}/take", STAFF)
    status, body = await as_person(api, service_headers, "POST", "/handoffs/messages", json={"text": "打印机连不上"})
    assert status == 200 and body["conversation"]["id"] == conversation["id"]
    status, body = await api.call("POST", f"{base}/reply", OTHER_STAFF, json={"text": "我来"})
    assert status == 403 and body["error"]["code"] == "not_yours"
    replied = await api.post(f"{base}/reply", STAFF, json={"text": "请重启一下打印机"})
    assert [m["author"] for m in replied["messages"]] == ["system", "user", "staff"]
    [row] = await outbox_rows(database, "helpdesk_reply")
    assert row.payload == {"chat": f"web:{PERSON}", "helpdesk_text": "请重启一下打印机", "staff_name": "何婷"}
    detail = await api.get(base, STAFF)
    assert detail["status"] == "active" and detail["taken_by"]["name"] == "何婷"
    assert [line["text"] for line in detail["transcript"]["lines"]][-2:] == ["打印机连不上", "请重启一下打印机"]
    closed = await api.post(f"{base}/hand-back", STAFF)
    assert closed["status"] == "closed"
    assert len(await outbox_rows(database, "helpdesk_closed")) == 1
    status, body = await api.call("POST", f"{base}/reply", STAFF, json={"text": "还在吗"})
    assert status == 409 and body["error"]["code"] == "conversation_closed"
    status, body = await api.call("POST", f"{base}/hand-back", STAFF)
    assert status == 409 and len(await outbox_rows(database, "helpdesk_closed")) == 1
    status, body = await as_person(api, service_headers, "POST", "/handoffs/messages", json={"text": "还有一个问题"})
    assert status == 409 and body["error"]["code"] == "no_handoff"
    again = await hand_over(api, service_headers)  # a new handoff is a new conversation
    assert again["id"] != conversation["id"]


async def test_someone_elses_conversation_cannot_be_handed_back(api, service_headers, in_hours):
    conversation = await hand_over(api, service_headers)
    await api.post(f"/helpdesk/conversations/{conversation['id']}/take", STAFF)
    status, body = await api.call("POST", f"/helpdesk/conversations/{conversation['id']}/hand-back", OTHER_STAFF)
    assert status == 403 and body["error"]["code"] == "not_yours"
    assert (await api.get(f"/helpdesk/conversations/{conversation['id']}", STAFF))["status"] == "active"


async def test_looking_up_the_person_shows_their_applications_and_is_recorded(api, service_headers, in_hours,
                                                                                database):
    conversation = await hand_over(api, service_headers)
    started = datetime.now(timezone.utc)
    found = await api.get(f"/helpdesk/conversations/{conversation['id']}/person", STAFF)
    assert found["person"]["username"] == PERSON and isinstance(found["applications"], list)
    entries = await audit.entries(database, username=STAFF, event="read", since=started)
    assert [e.target for e in entries] == [f"helpdesk_person:{PERSON}"]
    # The page refreshes itself every few seconds: one look is one entry, another person's look is theirs.
    await api.get(f"/helpdesk/conversations/{conversation['id']}/person", STAFF)
    await api.get(f"/helpdesk/conversations/{conversation['id']}/person", OTHER_STAFF)
    assert len(await audit.entries(database, username=STAFF, event="read", since=started)) == 1
    assert len(await audit.entries(database, username=OTHER_STAFF, event="read", since=started)) == 1
    staff_id = (await api.get("/me", STAFF))["id"]
    later = started + audit.REREAD_WINDOW + timedelta(seconds=1)
    await audit.record_read(database, "web", user_id=staff_id, username=STAFF, target=f"helpdesk_person:{PERSON}",
                            at=later)
    assert len(await audit.entries(database, username=STAFF, event="read", since=started)) == 2


@pytest.mark.parametrize("path", ["/conversations/999999", "/conversations/999999/take",
                                  "/conversations/999999/hand-back", "/tickets/999999/close"])
async def test_unknown_ids_are_not_found(api, path):
    method = "GET" if path.count("/") == 2 else "POST"
    status, body = await api.call(method, f"/helpdesk{path}", STAFF)
    assert status == 404 and body["error"]["code"] in ("conversation_not_found", "ticket_not_found")


@pytest.mark.parametrize("body", [b"{not json", b'{"text": 5}', b'{"text": "   "}', b"{}", b'["text"]',
                                  ('{"text": "' + "长" * 2001 + '"}').encode()])
async def test_bad_bodies_are_refused_and_change_nothing(api, service_headers, in_hours, database, body):
    conversation = await hand_over(api, service_headers)
    await api.post(f"/helpdesk/conversations/{conversation['id']}/take", STAFF)
    headers = {"Content-Type": "application/json"}
    status, answer = await api.call("POST", f"/helpdesk/conversations/{conversation['id']}/reply", STAFF,
                                    data=body, headers=headers)
    assert status == 400, answer
    status, answer = await as_person(api, service_headers, "POST", "/tickets", data=body)
    assert status == 400, answer
    assert await outbox_rows(database, "helpdesk_reply") == []
    assert (await api.get("/helpdesk/tickets", STAFF))["items"] == []


async def test_a_bad_reason_or_status_is_refused(api, service_headers, in_hours):
    status, body = await as_person(api, service_headers, "POST", "/handoffs", json={"reason": "bored"})
    assert status == 400 and body["error"]["code"] == "bad_reason"
    for path in ("/conversations?status=lost", "/tickets?status=lost"):
        status, body = await api.call("GET", f"/helpdesk{path}", STAFF)
        assert status == 400 and body["error"]["code"] == "bad_query"


async def test_a_ticket_answered_notifies_the_person_once(api, service_headers, clock, database):
    clock.value = SUNDAY
    status, ticket = await api.call("POST", "/helpdesk/tickets", headers=service_headers("wecom:zhangwei"),
                                    json={"text": "周末能办理用印吗?"})
    assert status == 201 and ticket["status"] == "open" and ticket["channel"] == "wecom"
    assert [t["id"] for t in (await api.get("/helpdesk/tickets?status=open", STAFF))["items"]] == [ticket["id"]]
    answered = await api.post(f"/helpdesk/tickets/{ticket['id']}/answer", STAFF, json={"answer": "可以,线上提交即可"})
    assert answered["status"] == "answered" and answered["answered_by"]["name"] == "何婷"
    [row] = await outbox_rows(database, "ticket_answered")
    assert row.payload["chat"] == "wecom:zhangwei" and row.payload["helpdesk_text"] == "可以,线上提交即可"
    status, body = await api.call("POST", f"/helpdesk/tickets/{ticket['id']}/answer", OTHER_STAFF,
                                  json={"answer": "再答一次"})
    assert status == 409 and body["error"]["code"] == "ticket_answered"
    assert len(await outbox_rows(database, "ticket_answered")) == 1
    closed = await api.post(f"/helpdesk/tickets/{ticket['id']}/close", STAFF)
    assert closed["status"] == "closed"
    status, body = await api.call("POST", f"/helpdesk/tickets/{ticket['id']}/close", STAFF)
    assert status == 409 and body["error"]["code"] == "ticket_closed"


async def test_a_person_waiting_may_leave_the_queue_but_not_once_taken(api, service_headers, in_hours, database):
    first = await hand_over(api, service_headers)
    status, body = await as_person(api, service_headers, "POST", "/handoffs/withdraw")
    assert status == 200 and body["conversation"]["status"] == "closed" and body["conversation"]["id"] == first["id"]
    assert (await api.get("/helpdesk/conversations", STAFF))["items"] == []
    assert await outbox_rows(database, "helpdesk_closed") == []  # the person left: nothing to tell them
    status, body = await as_person(api, service_headers, "POST", "/handoffs/withdraw")
    assert status == 409 and body["error"]["code"] == "no_handoff"
    second = await hand_over(api, service_headers)
    await api.post(f"/helpdesk/conversations/{second['id']}/take", STAFF)
    status, body = await as_person(api, service_headers, "POST", "/handoffs/withdraw")
    assert status == 409 and body["error"]["code"] == "already_taken"
    assert (await api.get(f"/helpdesk/conversations/{second['id']}", STAFF))["status"] == "active"


async def test_the_assistant_finds_the_persons_open_conversation_until_it_is_handed_back(api, service_headers,
                                                                                          in_hours):
    assert await as_person(api, service_headers, "GET", "/handoffs/current") == (200, {"conversation": None})
    conversation = await hand_over(api, service_headers)
    status, body = await as_person(api, service_headers, "GET", "/handoffs/current")
    assert status == 200 and body["conversation"]["id"] == conversation["id"]
    assert (await as_person(api, service_headers, "GET", "/handoffs/current", SECOND))[1] == {"conversation": None}
    await api.post(f"/helpdesk/conversations/{conversation['id']}/take", STAFF)
    assert (await as_person(api, service_headers, "GET", "/handoffs/current"))[1]["conversation"]["status"] == "active"
    status, body = await api.call("GET", "/helpdesk/handoffs/current", STAFF)  # only the assistant asks
    assert status == 403 and body["error"]["code"] == "assistant_only"
    await api.post(f"/helpdesk/conversations/{conversation['id']}/hand-back", STAFF)
    assert (await as_person(api, service_headers, "GET", "/handoffs/current"))[1] == {"conversation": None}
