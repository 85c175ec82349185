"""Notifications for people without WeCom, over real HTTP: the API (/api/v1/notifications)
and the chat panel's endpoints (/web/chat/notices, with the session and CSRF)."""
from __future__ import annotations

import json

from sqlalchemy import select

from backend.db.models import OutboxMessage, User, WebNotice


async def notify(database, username: str, *texts: str) -> list[int]:
    """Notices as the notifier keeps them (one per outbox row), oldest first."""
    async with database.write() as session:
        user = await session.scalar(select(User).where(User.username == username))
        ids = []
        for text in texts:
            row = OutboxMessage(event="task_assigned", recipient_id=user.id, payload={}, status="sent")
            session.add(row)
            await session.flush()
            notice = WebNotice(user_id=user.id, outbox_id=row.id, messages=[{"text": text}])
            session.add(notice)
            await session.flush()
            ids.append(notice.id)
        return ids


def texts(items) -> list[str]:
    return [m["text"] for item in items for m in item["messages"]]


async def test_the_api_lists_my_notices_oldest_first_and_marks_them_read(api, database):
    first, second = await notify(database, "t1702", "📋 您有一个新的待办 A", "📋 您有一个新的待办 B")
    await notify(database, "t2001", "别人的通知")
    listed = (await api.get("/notifications?unread=1", "t1702"))["items"]
    assert texts(listed) == ["📋 您有一个新的待办 A", "📋 您有一个新的待办 B"]
    assert [n["id"] for n in listed] == [first, second] and not any(n["read"] for n in listed)
    status, body = await api.call("POST", "/notifications/read", "t1702", json={"up_to": first})
    assert (status, body) == (200, {"marked": 1})
    assert texts((await api.get("/notifications?unread=1", "t1702"))["items"]) == ["📋 您有一个新的待办 B"]
    everything = (await api.get("/notifications", "t1702"))["items"]
    assert [n["read"] for n in everything] == [True, False]
    # Marking someone else's notice is not possible: up_to only ever covers the caller's own.
    status, body = await api.call("POST", "/notifications/read", "t2001", json={"up_to": second})
    assert body == {"marked": 0} and texts((await api.get("/notifications?unread=1", "t1702"))["items"]) == [
        "📋 您有一个新的待办 B"]


async def test_bad_requests_are_refused_and_change_nothing(api, database):
    [notice] = await notify(database, "t1702", "一条通知")
    for query in ("?unread=2", "?limit=0", "?limit=x"):
        status, body = await api.call("GET", f"/notifications{query}", "t1702")
        assert status == 400 and body["error"]["code"] == "bad_query", query
    for payload in ({}, {"up_to": "1"}, {"up_to": 0}, {"up_to": True}, [1]):
        status, body = await api.call("POST", "/notifications/read", "t1702", json=payload)
        assert status == 400, payload
    status, body = await api.call("POST", "/notifications/read", "t1702", data=b"{not json",
                                  headers={"Content-Type": "application/json"})
    assert status == 400 and body["error"]["code"] == "bad_json"
    assert (await api.call("GET", "/notifications"))[0] == 401
    assert [n["read"] for n in (await api.get("/notifications", "t1702"))["items"]] == [False]


async def test_the_chat_panel_reads_its_notices_with_the_session_and_marks_them_with_csrf(hall, database):
    [notice] = await notify(database, "t1702", "您的申请已全部审批通过")
    browser = await hall.browser("t1702")
    await browser.get("/")
    async with browser.session.get(browser.base_url + "/web/chat/notices?unread=1") as response:
        assert response.status == 200
        assert texts((await response.json())["items"]) == ["您的申请已全部审批通过"]
    read = browser.base_url + "/web/chat/notices/read"
    body = json.dumps({"up_to": notice}).encode()
    async with browser.session.post(read, data=body, headers={"Content-Type": "application/json"}) as response:
        assert response.status == 403  # no CSRF token: refused, nothing marked
    assert [n["read"] for n in (await hall.api.get("/notifications", "t1702"))["items"]] == [False]
    async with browser.session.post(read, data=body, headers={"Content-Type": "application/json",
                                                              "X-CSRF-Token": browser.csrf}) as response:
        assert response.status == 200 and (await response.json()) == {"marked": 1}
    stranger = await hall.browser()
    async with stranger.session.get(stranger.base_url + "/web/chat/notices",
                                    headers={"Accept": "application/json"}, allow_redirects=False) as response:
        assert response.status in (302, 303, 401)
