"""Behind nginx: forwarded headers believed from TRUSTED_PROXIES only (the test client's
peer is 127.0.0.1), the session cookie Secure and HSTS sent when the client used https."""
from __future__ import annotations

import dataclasses
from ipaddress import ip_network
from typing import Callable

import pytest

from backend.config import Settings
from backend.db.database import Database
from backend.web.app import create_app
from backend.web.sessions import COOKIE

from tests.support.pages import Browser

FORWARDED_HTTPS = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.7"}


async def log_in(aiohttp_client: Callable, settings: Settings, headers: dict[str, str]) -> Browser:
    client = await aiohttp_client(create_app(settings))
    browser = Browser(str(client.make_url("/")))
    await browser.get("/login")
    await browser.post("/login", [("username", "t2001"), ("password", "Demo@2026"), ("next", "/")],
                       headers=headers, follow=False)
    assert browser.status == 303, browser.html
    return browser


def session_cookie(browser: Browser) -> str:
    cookies = [c for c in browser.headers.getall("Set-Cookie", []) if c.startswith(COOKIE + "=")]
    assert len(cookies) == 1, browser.headers
    return cookies[0]


@pytest.fixture
async def browsers():
    opened: list[Browser] = []
    yield opened
    for browser in opened:
        await browser.close()


async def test_https_through_a_trusted_proxy_gives_a_secure_cookie_and_hsts(
        aiohttp_client, settings: Settings, database: Database, browsers):
    behind_proxy = dataclasses.replace(settings, trusted_proxies=(ip_network("127.0.0.1/32"),))
    browser = await log_in(aiohttp_client, behind_proxy, FORWARDED_HTTPS)
    browsers.append(browser)
    assert "Secure" in session_cookie(browser).split("; ")
    assert browser.headers["Strict-Transport-Security"] == f"max-age={settings.hsts_max_age_seconds}"


@pytest.mark.parametrize("trusted", [(ip_network("10.20.30.40/32"),), ()], ids=["another-proxy", "none"])
async def test_forged_forwarded_headers_from_an_untrusted_peer_are_not_believed(
        aiohttp_client, settings: Settings, database: Database, browsers, trusted):
    # The development default trusts no one; a production one trusts its proxy, not this peer.
    elsewhere = dataclasses.replace(settings, trusted_proxies=trusted)
    browser = await log_in(aiohttp_client, elsewhere, FORWARDED_HTTPS)
    browsers.append(browser)
    assert "Secure" not in session_cookie(browser).split("; ")
    assert "Strict-Transport-Security" not in browser.headers


async def test_plain_http_through_the_trusted_proxy_stays_plain(
        aiohttp_client, settings: Settings, database: Database, browsers):
    behind_proxy = dataclasses.replace(settings, trusted_proxies=(ip_network("127.0.0.1/32"),))
    browser = await log_in(aiohttp_client, behind_proxy, {"X-Forwarded-Proto": "http"})
    browsers.append(browser)
    assert "Secure" not in session_cookie(browser).split("; ")
    assert "Strict-Transport-Security" not in browser.headers
