"""Who is calling: a logged-in user's bearer token, or the action server's service
token naming the user it acts for (``X-On-Behalf-Of``).

The on-behalf-of identity is a channel identity (``wecom:<userid>``, ``web:<username>``)
that the channel derived from something the user cannot forge; the backend maps it to
an account and applies that account's permissions.
"""
from __future__ import annotations

import hmac
from typing import Optional

from aiohttp import web

from ..auth.tokens import read_claims
from ..db.models import User
from ..db.org import active_user
from ..errors import Forbidden, NotAuthenticated
from .keys import ACTOR, DATABASE, SETTINGS

PUBLIC_PATHS = {"/api/v1/auth/login", "/api/v1/openapi.json", "/api/v1/health"}
# With a password to change (imported initial one, administrator's reset) only this answers.
CHANGE_PASSWORD_PATH = "/api/v1/me/password"
ON_BEHALF_OF = "X-On-Behalf-Of"
# How the caller came in: "api" (a token from /auth/login), "service" (the action server on
# someone's behalf), "web" (a hall session; set by the session middleware).
CHANNEL = web.RequestKey("channel", str)


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
        request[CHANNEL] = "service"
    else:
        claims = read_claims(settings.secret_key, token)
        if claims is None:
            raise NotAuthenticated("invalid_token", "登录已失效,请重新登录")
        condition = User.id == claims.user_id
        unknown = NotAuthenticated("invalid_token", "登录已失效,请重新登录")
        request[CHANNEL] = "api"
    user = await active_user(request.app[DATABASE], condition)
    if user is None:
        raise unknown
    if request[CHANNEL] == "api" and user.credentials_version != claims.version:
        raise NotAuthenticated("invalid_token", "密码已修改,请重新登录")
    return user


@web.middleware
async def auth_middleware(request: web.Request, handler):
    if request.path.startswith("/api/v1/") and request.path not in PUBLIC_PATHS:
        user = request[ACTOR] = await resolve_actor(request)
        # The action server acts for people WeCom identified; the initial password plays no part there.
        if user.must_change_password and request[CHANNEL] == "api" and request.path != CHANGE_PASSWORD_PATH:
            raise Forbidden("password_change_required", "请先修改初始密码(POST /api/v1/me/password)后再使用")
    return await handler(request)


def actor(request: web.Request) -> User:
    return request[ACTOR]

