"""The web chat's two backend endpoints: a short-lived chat token for the logged-in user,
and a same-origin relay of chat messages to Rasa's ``webchat`` channel.

Why a relay: Rasa listens on 127.0.0.1 only, so the browser cannot reach it. The relay
is a transport, not the authority: Rasa's channel verifies the token on every message
and takes the sender (``web:<username>``) from it; the browser never names a sender.
"""
from __future__ import annotations

from typing import AsyncIterator

import aiohttp
from aiohttp import web

from .relay import RASA_HTTP, relay_message
from .tokens import issue_chat_token

RASA_TIMEOUT = aiohttp.ClientTimeout(total=90, connect=3)


def setup_web_chat(app: web.Application) -> None:
    async def rasa_http(app: web.Application) -> AsyncIterator[None]:
        app[RASA_HTTP] = aiohttp.ClientSession(timeout=RASA_TIMEOUT)
        yield
        await app[RASA_HTTP].close()

    app.cleanup_ctx.append(rasa_http)
    app.add_routes([
        web.post("/web/chat/token", issue_chat_token, name="web_chat_token"),
        web.post("/web/chat/send", relay_message, name="web_chat_send"),
    ])
