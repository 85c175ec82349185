"""POST /web/chat/send {"token", "message"} → Rasa's webchat channel, replies back as-is.

The session must be the token's user, so a page cannot relay someone else's token; the
body is small and checked before anything is sent to Rasa.
"""
from __future__ import annotations

import asyncio
import logging
from typing import Any

import aiohttp
from aiohttp import web

from ...errors import AppError, InvalidInput, NotAuthenticated
from ..jsonio import json_response, parse_json
from ..keys import SETTINGS
from .tokens import session_user, token_user_id

log = logging.getLogger(__name__)

RASA_HTTP = web.AppKey("rasa_http", aiohttp.ClientSession)
WEBHOOK_PATH = "/webhooks/webchat/webhook"
MAX_BODY_BYTES = 8 * 1024
MAX_MESSAGE_CHARS = 1000


class TooLarge(AppError):
    status = 413


class AssistantUnavailable(AppError):
    status = 502


async def read_limited(request: web.Request, limit: int) -> bytes:
    """The whole body, however many TCP segments it came in; 413 once past ``limit`` bytes."""
    if request.content_length is not None and request.content_length > limit:
        raise TooLarge("body_too_large", "消息过长")
    raw = bytearray()
    while chunk := await request.content.read(limit + 1 - len(raw)):  # read(n) gives what has arrived
        raw += chunk
        if len(raw) > limit:
            raise TooLarge("body_too_large", "消息过长")
    return bytes(raw)


async def read_chat_body(request: web.Request) -> tuple[str, str]:
    body = parse_json(await read_limited(request, MAX_BODY_BYTES))
    token = body.get("token") if isinstance(body, dict) else None
    message = body.get("message") if isinstance(body, dict) else None
    if not isinstance(token, str) or not isinstance(message, str) or not message.strip():
        raise InvalidInput("bad_chat_message", "需要 token 和非空的 message")
    if len(message) > MAX_MESSAGE_CHARS:
        raise TooLarge("message_too_long", f"消息不能超过 {MAX_MESSAGE_CHARS} 字")
    return token, message


async def post_to_rasa(request: web.Request, token: str, message: str) -> Any:
    url = request.app[SETTINGS].rasa_url.rstrip("/") + WEBHOOK_PATH
    try:
        async with request.app[RASA_HTTP].post(url, json={"token": token, "message": message}) as response:
            if response.status == 401:
                raise NotAuthenticated("chat_token_invalid", "对话凭证已失效,请刷新")
            if response.status != 200:
                raise AssistantUnavailable("assistant_unavailable", "助手暂时无法回复,请稍后再试")
            return await response.json()
    except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as error:
        log.warning("web chat relay to %s failed: %r", url, error)
        raise AssistantUnavailable("assistant_unavailable", "助手暂时无法连接,请稍后再试") from None


async def relay_message(request: web.Request) -> web.Response:
    user = session_user(request)
    token, message = await read_chat_body(request)
    if token_user_id(request, token) != user.id:
        raise NotAuthenticated("chat_token_invalid", "对话凭证已失效,请刷新")
    replies = await post_to_rasa(request, token, message)
    return json_response({"messages": replies if isinstance(replies, list) else []})
