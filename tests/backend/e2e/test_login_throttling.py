"""Failed logins are limited per account and per client address (429 + Retry-After, on the
API and the login page), counted in the database or in Redis, by an address a client cannot
choose: X-Forwarded-For counts only from a trusted proxy."""
import dataclasses
import secrets
from ipaddress import ip_network

import pytest
from sqlalchemy import delete

from backend.db.models import AuditEvent
from backend.web.app import create_app
from backend.workflow.engine import Workflow
from tests.support.accounts import people_of_a_test
from tests.support.databases import DEMO_PASSWORD
from tests.support.pages import Browser, text_of
from tests.support.redis_keys import REDIS_URL

LIMITS = dict(login_account_failures=3, login_address_failures=5, login_window_seconds=600)


@pytest.fixture
async def new_person(database):
    async for make in people_of_a_test(database):
        yield make


@pytest.fixture
async def cleanup_audit(database):
    addresses = []
    yield addresses
    async with database.write() as session:
        await session.execute(delete(AuditEvent).where(AuditEvent.address.in_(addresses)))


def app_client(aiohttp_client, settings, clock, **overrides):
    changes = {"trusted_proxies": (ip_network("127.0.0.1/32"),), **LIMITS, **overrides}
    behind_proxy = dataclasses.replace(settings, **changes)
    return aiohttp_client(create_app(behind_proxy, Workflow(behind_proxy.timezone, now=clock)))


@pytest.fixture
async def client(aiohttp_client, settings, clock, database):
    return await app_client(aiohttp_client, settings, clock)


async def attempt(client, username, password, address):
    response = await client.post("/api/v1/auth/login", json={"username": username, "password": password},
                                 headers={"X-Forwarded-For": address})
    return response.status, response.headers.get("Retry-After"), await response.json()


def an_address(cleanup_audit):
    cleanup_audit.append(f"203.0.113.{secrets.randbelow(254) + 1}" if len(cleanup_audit) % 2 else
                         f"198.51.100.{secrets.randbelow(254) + 1}")
    return cleanup_audit[-1]


async def test_an_account_is_locked_for_a_while_after_three_failures_from_anywhere(client, new_person,
                                                                                   cleanup_audit):
    username = await new_person()
    for _ in range(3):
        status, _, body = await attempt(client, username, "wrong-guess-1", an_address(cleanup_audit))
        assert status == 401 and body["error"]["code"] == "login_failed"
    status, retry_after, body = await attempt(client, username, DEMO_PASSWORD, an_address(cleanup_audit))
    assert status == 429 and body["error"]["code"] == "too_many_attempts"
    assert 0 < int(retry_after) <= 600 and "分钟后再试" in body["error"]["message"]


async def test_an_address_is_limited_across_accounts_and_other_addresses_are_not(client, new_person,
                                                                                 cleanup_audit):
    guesser, bystander = an_address(cleanup_audit), an_address(cleanup_audit)
    for n in range(5):
        status, _, _ = await attempt(client, f"nobody{n}", "wrong-guess-1", guesser)
        assert status == 401
    username = await new_person()
    status, retry_after, _ = await attempt(client, username, DEMO_PASSWORD, guesser)
    assert status == 429 and int(retry_after) > 0
    assert (await attempt(client, username, DEMO_PASSWORD, bystander))[0] == 200


async def test_a_successful_login_clears_the_account_count(client, new_person, cleanup_audit):
    username, address = await new_person(), an_address(cleanup_audit)
    for _ in range(2):
        assert (await attempt(client, username, "wrong-guess-1", address))[0] == 401
    assert (await attempt(client, username, DEMO_PASSWORD, address))[0] == 200
    for _ in range(2):
        assert (await attempt(client, username, "wrong-guess-1", address))[0] == 401
    assert (await attempt(client, username, DEMO_PASSWORD, address))[0] == 200


async def test_the_login_page_answers_429_with_retry_after_and_a_message(client, new_person, cleanup_audit):
    username, address = await new_person(), an_address(cleanup_audit)
    browser = Browser(str(client.make_url("/")))
    try:
        await browser.get("/login")
        for _ in range(3):
            await browser.post("/login", [("username", username), ("password", "wrong-guess-1")],
                               headers={"X-Forwarded-For": address})
            assert browser.status == 401
        await browser.post("/login", [("username", username), ("password", DEMO_PASSWORD)],
                           headers={"X-Forwarded-For": address})
        assert browser.status == 429 and int(browser.headers["Retry-After"]) > 0
        assert "登录失败次数过多" in text_of(browser.html, "login-error")
    finally:
        await browser.close()


async def test_forwarded_addresses_from_an_untrusted_peer_are_not_believed(aiohttp_client, settings, clock,
                                                                           new_person, database):
    async def forget_failures_from_here():  # other tests' failures come from 127.0.0.1 as well
        async with database.write() as session:
            await session.execute(delete(AuditEvent).where(AuditEvent.address == "127.0.0.1"))

    client = await app_client(aiohttp_client, settings, clock, trusted_proxies=())
    guessed = [await new_person() for _ in range(5)]
    await forget_failures_from_here()
    try:
        for n, username in enumerate(guessed):  # a new "address" each time: all are 127.0.0.1 really
            assert (await attempt(client, username, "wrong-guess-1", f"192.0.2.{n + 1}"))[0] == 401
        status, _, _ = await attempt(client, await new_person(), DEMO_PASSWORD, "192.0.2.99")
        assert status == 429
    finally:
        await forget_failures_from_here()


async def test_with_redis_configured_the_failures_are_counted_there(aiohttp_client, settings, clock, database,
                                                                    new_person, cleanup_audit):
    import redis.asyncio as redis

    client = await app_client(aiohttp_client, settings, clock, redis_url=REDIS_URL)
    username, address = await new_person(), an_address(cleanup_audit)
    store = redis.Redis.from_url(REDIS_URL)
    try:
        for _ in range(3):
            assert (await attempt(client, username, "wrong-guess-1", address))[0] == 401
        assert await store.zcard(f"campus:login-failures:account:{username}") == 3
        async with database.write() as session:  # the database's count is not what decides here
            await session.execute(delete(AuditEvent).where(AuditEvent.username == username))
        assert (await attempt(client, username, DEMO_PASSWORD, address))[0] == 429
    finally:
        await store.delete(f"campus:login-failures:account:{username}", f"campus:login-failures:address:{address}")
        await store.aclose()


async def test_with_redis_configured_but_down_the_audit_table_still_limits(aiohttp_client, settings, clock, database,
                                                                           new_person, cleanup_audit):
    """Nothing listens on the discard port: the failures recorded in the audit table decide, so an
    outage of Redis never lifts the limit."""
    client = await app_client(aiohttp_client, settings, clock, redis_url="redis://127.0.0.1:9/0")
    username, address = await new_person(), an_address(cleanup_audit)
    for _ in range(3):
        assert (await attempt(client, username, "wrong-guess-1", address))[0] == 401
    status, retry_after, body = await attempt(client, username, DEMO_PASSWORD, address)
    assert status == 429 and int(retry_after) > 0, body


async def test_a_username_longer_than_any_account_is_still_counted(client, cleanup_audit):
    address, username = an_address(cleanup_audit), "x" * 100 + secrets.token_hex(4)
    for _ in range(3):
        assert (await attempt(client, username, "wrong-guess-1", an_address(cleanup_audit)))[0] == 401
    assert (await attempt(client, username, "wrong-guess-1", address))[0] == 429
