"""Logins (either outcome) and sensitive reads land in the audit log: who, when, from where,
with what, through which channel."""
from datetime import datetime, timezone

import pytest
from sqlalchemy import delete, select

from backend.db import audit
from backend.db.models import User, UserRole
from tests.support.accounts import people_of_a_test
from tests.support.backend_api import pending_task
from tests.support.databases import DEMO_PASSWORD
from tests.support.forms import SEAL


async def logged_since(database, started, **filters):
    return [e for e in await audit.entries(database, since=started, **filters)]


async def test_logins_are_recorded_with_outcome_address_agent_and_channel(api, database):
    started = datetime.now(timezone.utc)
    for password in ("wrong-guess-1", DEMO_PASSWORD):
        await api.client.post("/api/v1/auth/login", json={"username": "t1001", "password": password},
                              headers={"User-Agent": "campus-test/1.0"})
    await api.client.post("/api/v1/auth/login", json={"username": "nobody-here", "password": "x-guess-22"})
    mine = await logged_since(database, started, username="t1001")
    assert [(e.event, e.channel, e.address, e.user_agent) for e in mine] == [
        ("login_succeeded", "api", "127.0.0.1", "campus-test/1.0"),
        ("login_failed", "api", "127.0.0.1", "campus-test/1.0")]
    assert [e.event for e in await logged_since(database, started, username="nobody-here")] == ["login_failed"]


async def test_the_hall_login_is_recorded_as_the_web_channel(hall, database):
    started = datetime.now(timezone.utc)
    await hall.browser("t1001")
    [entry] = await logged_since(database, started, username="t1001")
    assert (entry.event, entry.channel) == ("login_succeeded", "web")


async def test_reading_someone_elses_application_as_an_approver_is_recorded(hall, database):
    app = await hall.api.post("/applications", "t2001", json=SEAL(), expect=201)
    task = await pending_task(hall.api, "t0002", app["number"])
    started = datetime.now(timezone.utc)
    await hall.api.get(f"/tasks/{task['id']}", "t0002")
    await hall.api.get(f"/applications/{app['id']}", "t0002")
    browser = await hall.browser("t0002")
    await browser.get(f"/tasks/{task['id']}")
    await browser.get("/web/org/users?q=张")
    reads = await logged_since(database, started, username="t0002", event="read")
    assert sorted((e.channel, e.target) for e in reads) == sorted([
        ("api", f"task:{task['id']}"), ("api", f"application:{app['id']}"),
        ("web", f"task:{task['id']}"), ("web", "users?q=张")])
    await hall.api.call("GET", "/applications/999999", "t0002")  # nothing read, nothing recorded
    assert len(await logged_since(database, started, username="t0002", event="read")) == 4


@pytest.fixture
async def new_person(database):
    async for make in people_of_a_test(database):
        yield make


async def test_system_administrators_list_the_log_through_the_api_and_nobody_else_does(api, database, new_person):
    admin = await new_person()
    async with database.write() as session:
        user_id = await session.scalar(select(User.id).where(User.username == admin))
        session.add(UserRole(user_id=user_id, role="系统管理员"))
    try:
        await api.client.post("/api/v1/auth/login", json={"username": "t1001", "password": "wrong-guess-1"})
        login = await api.client.post("/api/v1/auth/login", json={"username": admin, "password": DEMO_PASSWORD})
        headers = {"Authorization": f"Bearer {(await login.json())['token']}"}
        response = await api.client.get("/api/v1/audit?user=t1001&event=login_failed&limit=5", headers=headers)
        items = (await response.json())["items"]
        assert response.status == 200 and items and items[0]["event"] == "login_failed"
        assert items[0]["username"] == "t1001" and items[0]["at"].endswith("+08:00")
        response = await api.client.get("/api/v1/audit?since=yesterday", headers=headers)
        assert response.status == 400 and (await response.json())["error"]["code"] == "bad_query"
        status, body = await api.call("GET", "/audit", "t2001")
        assert status == 403 and body["error"]["code"] == "admin_only"
    finally:
        async with database.write() as session:
            await session.execute(delete(UserRole).where(UserRole.user_id == user_id))
