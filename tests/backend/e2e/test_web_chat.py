"""The web chat's backend endpoints over real HTTP: POST /web/chat/token and the relay
POST /web/chat/send. Rasa is not running here (its URL is a closed loopback port), so a
refusal proves the relay refused before forwarding; the forwarding itself is covered by
the browser tests through the whole stack (tests/web/)."""
from __future__ import annotations

import json
import secrets
import socket
import time
from dataclasses import replace

import jwt
import pytest

from backend.auth.tokens import issue_token
from backend.config import Settings

from tests.support.backend_api import SECRET, SERVICE_TOKEN

CHAT_SECRET = secrets.token_urlsafe(48)


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(database_url=database_url, secret_key=SECRET, service_token=SERVICE_TOKEN,
                    webchat_token_secret=CHAT_SECRET, rasa_url=f"http://127.0.0.1:{closed_port()}")


async def post_json(browser, path: str, body=None, *, csrf: bool = True, raw: bytes = b""):
    headers = {"Accept": "application/json", "Content-Type": "application/json"}
    if csrf:
        headers["X-CSRF-Token"] = browser.csrf
    data = raw or json.dumps(body or {}).encode()
    async with browser.session.post(browser.base_url + path, data=data, headers=headers) as response:
        return response.status, await response.json(content_type=None)


async def logged_in(hall, username: str):
    browser = await hall.browser(username)
    await browser.get("/")
    return browser


async def test_a_logged_in_page_gets_a_short_lived_chat_token_for_its_user(hall):
    browser = await logged_in(hall, "t2001")
    status, body = await post_json(browser, "/web/chat/token")
    assert status == 200 and body["username"] == "t2001" and body["expires_in"] == 600
    claims = jwt.decode(body["token"], CHAT_SECRET, algorithms=["HS256"], audience="webchat")
    assert claims["usr"] == "t2001" and claims["exp"] - claims["iat"] == 600
    with pytest.raises(jwt.InvalidSignatureError):  # signed with the chat secret, not the backend's key
        jwt.decode(body["token"], SECRET, algorithms=["HS256"], audience="webchat")


async def test_the_chat_token_is_not_an_api_token(hall):
    browser = await logged_in(hall, "t2001")
    _, body = await post_json(browser, "/web/chat/token")
    status, _ = await hall.api.call("GET", "/me", headers={"Authorization": f"Bearer {body['token']}"})
    assert status == 401


async def test_no_chat_token_without_a_session_or_without_the_csrf_token(hall):
    anonymous = await hall.browser()
    await anonymous.get("/login")
    status, body = await post_json(anonymous, "/web/chat/token")
    assert status == 401 and body["error"]["code"] == "not_authenticated"
    browser = await logged_in(hall, "t2001")
    status, body = await post_json(browser, "/web/chat/token", csrf=False)
    assert status == 403 and body["error"]["code"] == "csrf_failed"
    async with browser.session.post(browser.base_url + "/web/chat/token", headers={
            "X-CSRF-Token": browser.csrf, "Accept": "application/json", "Origin": "https://evil.example"}) as response:
        assert response.status == 403


def forged(username: str) -> str:
    return jwt.encode({"sub": "1", "usr": username, "aud": "webchat", "iss": "campus-affairs",
                       "exp": int(time.time()) + 600}, secrets.token_urlsafe(48), algorithm="HS256")


@pytest.mark.parametrize("case, status, code", [
    ("forged", 401, "chat_token_invalid"),
    ("expired", 401, "chat_token_invalid"),
    ("another user's", 401, "chat_token_invalid"),
    ("empty message", 400, "bad_chat_message"),
    ("no token", 400, "bad_chat_message"),
    ("too long", 413, "message_too_long"),
    ("malformed", 400, "bad_json"),
    ("oversized", 413, "body_too_large"),
])
async def test_the_relay_refuses_a_bad_message_before_anything_reaches_rasa(hall, case, status, code):
    browser = await logged_in(hall, "t2001")
    _, mine = await post_json(browser, "/web/chat/token")
    other = await logged_in(hall, "t2101")
    _, theirs = await post_json(other, "/web/chat/token")
    bodies = {
        "forged": {"token": forged("t2001"), "message": "你好"},
        "expired": {"token": issue_token(CHAT_SECRET, 1, "t2001", -10, audience="webchat"), "message": "你好"},
        "another user's": {"token": theirs["token"], "message": "你好"},
        "empty message": {"token": mine["token"], "message": "  "},
        "no token": {"message": "你好"},
        "too long": {"token": mine["token"], "message": "长" * 1001},
    }
    raw = {"malformed": b"{not json", "oversized": json.dumps({"token": mine["token"], "message": "x" * 9000}).encode()}
    answer, body = await post_json(browser, "/web/chat/send", bodies.get(case), raw=raw.get(case, b""))
    assert (answer, body["error"]["code"]) == (status, code)


async def test_the_relay_says_so_when_the_assistant_is_unreachable(hall):
    browser = await logged_in(hall, "t2001")
    _, mine = await post_json(browser, "/web/chat/token")
    status, body = await post_json(browser, "/web/chat/send", {"token": mine["token"], "message": "你好"})
    assert status == 502 and body["error"]["code"] == "assistant_unavailable"
    assert "助手" in body["error"]["message"]


async def test_without_a_chat_secret_the_web_chat_is_disabled_with_a_clear_message(hall, settings, aiohttp_client):
    from backend.web.app import create_app
    from tests.support.pages import Browser

    client = await aiohttp_client(create_app(replace(settings, webchat_token_secret=None)))
    browser = Browser(str(client.make_url("/")))
    try:
        await browser.login("t2001")
        await browser.get("/")
        status, body = await post_json(browser, "/web/chat/token")
        assert status == 503 and "WEBCHAT_TOKEN_SECRET" in body["error"]["message"]
    finally:
        await browser.close()
