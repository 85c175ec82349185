"""The authenticated web chat channel (bot/channels/webchat.py).

Tokens are made by the backend's own issuer (backend/auth/tokens.py) so the two sides
are checked against each other. The first tests serve the channel's blueprint from a
real Sanic server with a recording stand-in for Rasa's message handler, to see exactly
what reaches the bot; the last ones go through the whole stack (tests/bot/conftest.py).
"""
from __future__ import annotations

import json
import secrets
import socket
import time
from typing import Any, AsyncIterator

import aiohttp
import jwt
import pytest
import pytest_asyncio
from rasa.core.channels.channel import UserMessage
from rasa.shared.core.events import BotUttered, UserUttered
from sanic import Sanic

from backend.auth.tokens import ISSUER, issue_token
from bot.channels.webchat import AUDIENCE, SECRET_ENV, WebChatInput, button_payloads, sender_from_token

from tests.support.chat import buttons_of, reset, text_of

SECRET = secrets.token_urlsafe(48)
WEBHOOK = "/webhooks/webchat/webhook"


def chat_token(username: str = "t2001", secret: str = SECRET, ttl: int = 600, audience: str = AUDIENCE) -> str:
    return issue_token(secret, 42, username, ttl, audience=audience)


class Channel:
    """The channel served by Sanic; ``received`` is every message that reached the bot,
    ``shown`` the payloads of the buttons it showed, per sender (the tracker's part here)."""

    def __init__(self, url: str, received: list[UserMessage], shown: dict[str, set[str]]):
        self.url, self.received, self.shown = url, received, shown

    async def post(self, body: Any) -> tuple[int, Any]:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        async with aiohttp.ClientSession() as http:
            async with http.post(self.url + WEBHOOK, data=data,
                                 headers={"Content-Type": "application/json"}) as response:
                return response.status, await response.json(content_type=None)


# One server for the module, on the module's event loop; each test starts with no messages.
in_module_loop = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def served_channel() -> AsyncIterator[Channel]:
    received: list[UserMessage] = []
    shown: dict[str, set[str]] = {}

    async def bot(message: UserMessage) -> None:
        received.append(message)
        shown.setdefault(message.sender_id, set()).add("/approve")
        await message.output_channel.send_text_with_buttons(
            message.sender_id, f"收到:{message.text}", [{"title": "同意", "payload": "/approve"}])

    async def offered(_request, sender: str) -> set[str]:
        return set(shown.get(sender, ()))

    app = Sanic(f"webchat_test_{secrets.token_hex(4)}")
    app.blueprint(WebChatInput(SECRET, offered).blueprint(bot), url_prefix="/webhooks/webchat")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = await app.create_server(host="127.0.0.1", port=port, return_asyncio_server=True)
    await server.startup()
    await server.start_serving()
    try:
        yield Channel(f"http://127.0.0.1:{port}", received, shown)
    finally:
        server.close()
        await server.wait_closed()


@pytest.fixture
def channel(served_channel: Channel) -> Channel:
    served_channel.received.clear()
    served_channel.shown.clear()
    return served_channel


@in_module_loop
async def test_a_valid_token_speaks_as_web_user_from_the_token(channel):
    status, replies = await channel.post({"token": chat_token("t2001"), "message": " 我要盖章 ",
                                          "sender": "web:t0001"})  # a client's own sender is ignored
    assert status == 200
    assert [(m.sender_id, m.text, m.input_channel) for m in channel.received] == [("web:t2001", "我要盖章", "webchat")]
    assert replies == [{"recipient_id": "web:t2001", "text": "收到:我要盖章",
                        "buttons": [{"title": "同意", "payload": "/approve"}]}]


@pytest.mark.parametrize("token", [
    chat_token(secret=secrets.token_urlsafe(48)),                        # signed with another secret
    chat_token(ttl=-5),                                                   # expired
    chat_token(audience="api"),                                           # a backend API token
    jwt.encode({"usr": "t2001", "aud": AUDIENCE, "iss": ISSUER, "exp": int(time.time()) + 600},
               None, algorithm="none"),                                   # unsigned
    jwt.encode({"usr": "t2001", "aud": AUDIENCE, "exp": int(time.time()) + 600}, SECRET, algorithm="HS256"),  # no issuer
    chat_token(username="t2001 OR 1=1"),                                  # not a username
    chat_token()[:-3] + "abc",                                            # tampered signature
    "", None, 12345,
], ids=["other-secret", "expired", "api-audience", "alg-none", "no-issuer", "bad-username", "tampered",
        "empty", "null", "number"])
@in_module_loop
async def test_a_forged_expired_or_missing_token_is_refused_and_nothing_reaches_the_bot(channel, token):
    status, body = await channel.post({"token": token, "message": "我有什么待办"})
    assert status == 401
    assert body["error"]["code"] == "invalid_token"
    assert channel.received == []


@pytest.mark.parametrize("body", [b"not json", b"[1,2]", b"", json.dumps({"message": "hi"}).encode()],
                         ids=["malformed", "array", "empty", "no-token"])
@in_module_loop
async def test_a_body_without_a_token_is_refused(channel, body):
    status, _ = await channel.post(body)
    assert status == 401
    assert channel.received == []


@pytest.mark.parametrize("message", ["", "   ", None, ["hi"], "长" * 1001], ids=["empty", "blank", "null", "list", "too-long"])
@in_module_loop
async def test_a_bad_message_with_a_valid_token_is_a_clear_400(channel, message):
    status, body = await channel.post({"token": chat_token(), "message": message})
    assert status == 400
    assert "message" in body["error"]["message"]
    assert channel.received == []


@pytest.mark.parametrize("typed, reaching_the_bot", [
    ("/restart", "restart"),
    ('/EXTERNAL_notification{"notification_event": "task_assigned", "task_id": "7"}',
     'EXTERNAL_notification{"notification_event": "task_assigned", "task_id": "7"}'),
    ('/approve{"task_id": "9"}', 'approve{"task_id": "9"}'),
    ("//approve", "approve"),
    ("/approve", "approve"),          # a payload, but no button offered it yet
    ("同意 /approve", "同意 /approve"),  # not a payload at all
], ids=["restart", "external-intent", "entities", "double-slash", "not-offered-yet", "slash-inside"])
@in_module_loop
async def test_typed_intent_payloads_reach_the_bot_as_plain_text(channel, typed, reaching_the_bot):
    status, _ = await channel.post({"token": chat_token("t2001"), "message": typed})
    assert status == 200
    assert [m.text for m in channel.received] == [reaching_the_bot]


@in_module_loop
async def test_a_button_the_assistant_showed_sends_its_payload(channel):
    await channel.post({"token": chat_token("t2001"), "message": "我有什么待办"})  # answered with 同意 /approve
    await channel.post({"token": chat_token("t2001"), "message": "/approve"})    # the panel's click
    await channel.post({"token": chat_token("t2101"), "message": "/approve"})    # shown to t2001, not to t2101
    assert [(m.sender_id, m.text) for m in channel.received] == [
        ("web:t2001", "我有什么待办"), ("web:t2001", "/approve"), ("web:t2101", "approve")]


@in_module_loop
async def test_a_message_of_slashes_only_says_nothing(channel):
    status, replies = await channel.post({"token": chat_token("t2001"), "message": " // "})
    assert (status, replies, channel.received) == (200, [], [])


def test_button_payloads_are_read_from_the_bots_messages_only():
    events = [UserUttered("/approve"), BotUttered("选", {"buttons": [{"title": "同意", "payload": '/approve{"task_id": "3"}'},
                                                                    {"title": "坏", "payload": 5}]}),
              BotUttered("无按钮")]
    assert button_payloads(events) == {'/approve{"task_id": "3"}'}


def test_the_channel_refuses_to_start_without_its_secret(monkeypatch):
    monkeypatch.delenv(SECRET_ENV, raising=False)
    with pytest.raises(ValueError, match=SECRET_ENV):
        WebChatInput.from_credentials(None)
    monkeypatch.setenv(SECRET_ENV, "short")
    with pytest.raises(ValueError, match=SECRET_ENV):
        WebChatInput.from_credentials(None)


def test_sender_comes_from_the_username_claim_only():
    assert sender_from_token(SECRET, chat_token("t1001")) == "web:t1001"
    assert sender_from_token(SECRET, chat_token("t1001", secret=SECRET + "x")) is None


# ---------------------------------------------------------------- the real stack
def stack_token(stack, username: str, **overrides: Any) -> str:
    return chat_token(username, secret=stack.env[SECRET_ENV], **overrides)


def say_webchat(stack, body: dict[str, Any]) -> tuple[int, Any]:
    from devtools.stack import http
    return http("POST", f"http://127.0.0.1:{stack.ports['rasa']}{WEBHOOK}", body)


def test_the_real_assistant_answers_through_the_webchat_channel_with_buttons(stack):
    reset(stack, "web:t2001")
    status, replies = say_webchat(stack, {"token": stack_token(stack, "t2001"), "message": "你好"})
    assert status == 200
    assert all(r["recipient_id"] == "web:t2001" for r in replies)
    assert "校务助手" in text_of(replies)
    assert {"办理事项", "我的待办", "我的申请"} <= set(buttons_of(replies))


def test_the_real_channel_refuses_a_forged_token(stack):
    forged = chat_token("t2001", secret=secrets.token_urlsafe(48))
    status, body = say_webchat(stack, {"token": forged, "message": "我有什么待办"})
    assert status == 401
    assert body["error"]["code"] == "invalid_token"


def latest_user_event(stack, sender: str) -> dict[str, Any]:
    status, tracker = stack.rasa_api("GET", f"/conversations/{sender}/tracker")
    assert status == 200, tracker
    return [e for e in tracker["events"] if e["event"] == "user"][-1]


def test_the_real_channel_reads_a_typed_intent_payload_as_text_and_a_shown_button_as_its_payload(stack):
    reset(stack, "web:t2001")
    token = stack_token(stack, "t2001")
    typed = '/EXTERNAL_notification{"notification_event": "task_assigned", "task_id": "1", "outbox_id": "424242"}'
    status, _ = say_webchat(stack, {"token": token, "message": typed})
    assert status == 200
    heard = latest_user_event(stack, "web:t2001")
    assert heard["text"] == typed[1:] and heard["parse_data"]["intent"]["name"] != "EXTERNAL_notification"
    assert not [e for e in heard["parse_data"]["entities"] if e["entity"] == "outbox_id"]
    _, replies = say_webchat(stack, {"token": token, "message": "你好"})
    payload = next(b["payload"] for r in replies for b in r.get("buttons", []) if b["title"] == "我的申请")
    status, _ = say_webchat(stack, {"token": token, "message": payload})  # the click
    assert status == 200
    clicked = latest_user_event(stack, "web:t2001")
    assert clicked["text"] == payload and payload.startswith("/")
