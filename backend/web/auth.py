"""Who is calling: a logged-in user's bearer token, or the action server's service
token naming the user it acts for (``X-On-Behalf-Of``).

The on-behalf-of identity is a channel identity (``wecom:<userid>``, ``web:<username>``)
that the channel derived from something the user cannot forge; the backend maps it to
an account and applies that account's permissions.
"""
from __future__ import annotations

import asyncio
import hmac
from typing import Optional

from aiohttp import web
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ..auth.passwords import verify_password
from ..auth.tokens import read_token
from ..db.models import User
from ..db.org import active_user
from ..errors import Forbidden, NotAuthenticated
from .keys import ACTOR, DATABASE, SETTINGS

PUBLIC_PATHS = {"/api/v1/auth/login", "/api/v1/openapi.json", "/api/v1/health"}
ON_BEHALF_OF = "X-On-Behalf-Of"


def _bearer(request: web.Request) -> Optional[str]:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def identity_filter(identity: str):
    channel, _, ident = identity.partition(":")
    if not ident:
        ident, channel = channel, "user"
    if channel == "wecom":
        return User.wecom_userid == ident
    if channel in ("web", "user"):
        return User.username == ident
    return None


async def resolve_actor(request: web.Request) -> User:
    settings = request.app[SETTINGS]
    token = _bearer(request)
    if token is None:
        raise NotAuthenticated("not_authenticated", "请先登录(缺少 Authorization: Bearer 令牌)")
    service = settings.service_token
    if service and hmac.compare_digest(token.encode(), service.encode()):
        identity = request.headers.get(ON_BEHALF_OF, "").strip()
        condition = identity_filter(identity) if identity else None
        if condition is None:
            raise Forbidden("identity_required", f"服务调用需要有效的 {ON_BEHALF_OF} 身份")
        unknown = Forbidden(
            "identity_not_bound",
            "您的账号尚未绑定校务服务系统。请先在企业微信完成身份认证(学校统一身份认证账号 + 手机号确认),"
            f"如有疑问请致电 {settings.helpdesk_phone}",
        )
    else:
        user_id = read_token(settings.secret_key, token)
        if user_id is None:
            raise NotAuthenticated("invalid_token", "登录已失效,请重新登录")
        condition = User.id == user_id
        unknown = NotAuthenticated("invalid_token", "登录已失效,请重新登录")
    user = await active_user(request.app[DATABASE], condition)
    if user is None:
        raise unknown
    return user


@web.middleware
async def auth_middleware(request: web.Request, handler):
    if request.path.startswith("/api/v1/") and request.path not in PUBLIC_PATHS:
        request[ACTOR] = await resolve_actor(request)
    return await handler(request)


def actor(request: web.Request) -> User:
    return request[ACTOR]


async def authenticate(session: AsyncSession, username: str, password: str) -> Optional[User]:
    """The active user with this username and password (JSON login and the web login page)."""
    user = await session.scalar(select(User).where(User.username == username.strip(), User.active.is_(True)))
    # Argon2 is deliberately slow: keep it off the event loop.
    ok = await asyncio.to_thread(verify_password, user.password_hash if user else None, password)
    return user if ok and user is not None else None
