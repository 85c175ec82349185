"""The web chat relay reads the whole request body, however it is cut into TCP segments:
a raw socket sends the headers and the JSON body in several writes, and a stand-in for
Rasa's webchat webhook records what the relay forwarded."""
from __future__ import annotations

import asyncio
import json
import secrets
from typing import Any
from urllib.parse import urlsplit

import pytest
from aiohttp import web
from yarl import URL

from backend.config import Settings

from tests.support.backend_api import SECRET, SERVICE_TOKEN

CHAT_SECRET = secrets.token_urlsafe(48)


@pytest.fixture
async def rasa(aiohttp_server) -> Any:
    """Rasa's webchat webhook as the relay sees it: each body it got, answered with one reply."""
    received: list[dict[str, Any]] = []

    async def webhook(request: web.Request) -> web.Response:
        received.append(await request.json())
        return web.json_response([{"recipient_id": "web:t2001", "text": "收到"}])

    app = web.Application()
    app.router.add_post("/webhooks/webchat/webhook", webhook)
    server = await aiohttp_server(app)
    server.received = received
    return server


@pytest.fixture
def settings(database_url: str, rasa) -> Settings:
    return Settings(database_url=database_url, secret_key=SECRET, service_token=SERVICE_TOKEN,
                    webchat_token_secret=CHAT_SECRET, rasa_url=str(rasa.make_url("/")))


async def send_in_pieces(base_url: str, cookie: str, csrf: str, body: bytes, pieces: int) -> tuple[int, Any]:
    """POST /web/chat/send over a raw socket: the headers, then the body in ``pieces`` writes."""
    where = urlsplit(base_url)
    reader, writer = await asyncio.open_connection(where.hostname, where.port)
    head = (f"POST /web/chat/send HTTP/1.1\r\nHost: {where.netloc}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\nCookie: {cookie}\r\nX-CSRF-Token: {csrf}\r\n"
            f"Accept: application/json\r\nConnection: close\r\n\r\n").encode()
    writer.write(head)
    await writer.drain()
    size = -(-len(body) // pieces)
    for start in range(0, len(body), size):
        await asyncio.sleep(0.05)  # each piece its own segment: the server has read the one before
        writer.write(body[start:start + size])
        await writer.drain()
    answer = await reader.read()
    writer.close()
    status_line, _, rest = answer.partition(b"\r\n")
    _, _, payload = rest.partition(b"\r\n\r\n")
    return int(status_line.split()[1]), json.loads(payload)


@pytest.mark.parametrize("pieces", [1, 3, 7])
async def test_a_body_cut_into_several_segments_is_relayed_whole(hall, rasa, pieces):
    browser = await hall.browser("t2001")
    await browser.get("/")
    async with browser.session.post(browser.base_url + "/web/chat/token", headers={
            "X-CSRF-Token": browser.csrf, "Accept": "application/json"}) as response:
        token = (await response.json())["token"]
    cookies = browser.session.cookie_jar.filter_cookies(URL(browser.base_url))
    cookie = "; ".join(f"{name}={morsel.value}" for name, morsel in cookies.items())
    message = "我要盖章," + "用于演出合同" * 40  # about 1 KB of JSON, cut mid-character too
    body = json.dumps({"token": token, "message": message}, ensure_ascii=False).encode()
    status, answer = await send_in_pieces(browser.base_url, cookie, browser.csrf, body, pieces)
    assert (status, answer) == (200, {"messages": [{"recipient_id": "web:t2001", "text": "收到"}]})
    assert rasa.received == [{"token": token, "message": message}]
