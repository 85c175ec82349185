"""POST /web/chat/token: a chat token for the session's user (JWT HS256, aud "webchat").

Signed with WEBCHAT_TOKEN_SECRET, which Rasa's webchat channel shares; the backend's own
key never leaves the backend. Short-lived: the panel asks for a new one before expiry.
"""
from __future__ import annotations

from typing import Optional

from aiohttp import web

from ...auth.tokens import issue_token, read_token
from ...db.models import User
from ...errors import AppError, NotAuthenticated
from ..jsonio import json_response
from ..keys import ACTOR, SETTINGS

AUDIENCE = "webchat"


class ChatDisabled(AppError):
    status = 503


def session_user(request: web.Request) -> User:
    user: Optional[User] = request.get(ACTOR)
    if user is None:
        raise NotAuthenticated("not_authenticated", "请先登录")
    return user


def chat_secret(request: web.Request) -> str:
    secret = request.app[SETTINGS].webchat_token_secret
    if not secret:
        raise ChatDisabled("chat_disabled", "网页对话未启用(服务器未配置 WEBCHAT_TOKEN_SECRET)")
    return secret


def token_user_id(request: web.Request, token: str) -> Optional[int]:
    """The user id a valid chat token names; None when forged, expired or malformed."""
    return read_token(chat_secret(request), token, audience=AUDIENCE)


async def issue_chat_token(request: web.Request) -> web.Response:
    user = session_user(request)
    ttl = request.app[SETTINGS].webchat_token_ttl_seconds
    token = issue_token(chat_secret(request), user.id, user.username, ttl, audience=AUDIENCE)
    return json_response({"token": token, "expires_in": ttl, "username": user.username})
