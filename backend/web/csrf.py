"""CSRF protection for every state-changing page request.

A logged-in browser's token lives in its server-side session; before login (the login
form itself) it is a random value in an HttpOnly cookie. Forms send it as the hidden
field ``csrf_token``, scripts as the ``X-CSRF-Token`` header (base.html puts it in
``<meta name="csrf-token">``). A cross-site Origin is refused as well.
"""
from __future__ import annotations

import hmac
import secrets
from typing import Optional
from urllib.parse import urlsplit

from aiohttp import web

from ..errors import Forbidden
from .keys import SETTINGS
from .sessions import WEB_SESSION, is_page

FIELD = "csrf_token"
HEADER = "X-CSRF-Token"
ANONYMOUS_COOKIE = "campus_csrf"
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
FORM_TYPES = {"application/x-www-form-urlencoded", "multipart/form-data"}
_NEW_ANONYMOUS = web.RequestKey("new_anonymous_csrf", str)


class CsrfRejected(Forbidden):
    def __init__(self) -> None:
        super().__init__("csrf_failed", "安全校验失败:页面已过期或请求来源不明。请刷新页面后重试。")


def _expected(request: web.Request) -> Optional[str]:
    live = request.get(WEB_SESSION)
    return live.csrf_token if live is not None else request.cookies.get(ANONYMOUS_COOKIE)


def token_for(request: web.Request) -> str:
    """The token a rendered page embeds (creating the anonymous cookie when needed)."""
    token = _expected(request) or request.get(_NEW_ANONYMOUS)
    if token is None:
        token = request[_NEW_ANONYMOUS] = secrets.token_urlsafe(32)
    return token


async def _submitted(request: web.Request) -> Optional[str]:
    given = request.headers.get(HEADER)
    if given is None and request.content_type in FORM_TYPES:
        value = (await request.post()).get(FIELD)  # parsed once; handlers reuse the cache
        given = value if isinstance(value, str) else None
    return given


async def _cas_single_logout(request: web.Request) -> bool:
    """The CAS server's back-channel POST of a ``logoutRequest`` to our service URL (/login):
    no browser, so no token. It can only end the session started with the ticket it names,
    and the login handler treats such a POST as nothing else (pages/session.py)."""
    return request.path == "/login" and bool(request.app[SETTINGS].cas_server_url) \
        and request.content_type in FORM_TYPES and "logoutRequest" in await request.post()


def _cross_origin(request: web.Request) -> bool:
    origin = request.headers.get("Origin")
    return origin is not None and urlsplit(origin).netloc != request.host


@web.middleware
async def csrf_middleware(request: web.Request, handler):
    if is_page(request.path) and request.method not in SAFE_METHODS and not await _cas_single_logout(request):
        expected, given = _expected(request), await _submitted(request)
        if _cross_origin(request) or not expected or not given \
                or not hmac.compare_digest(expected.encode(), given.encode()):
            raise CsrfRejected()
    response = await handler(request)
    new = request.get(_NEW_ANONYMOUS)
    if new is not None:
        response.set_cookie(ANONYMOUS_COOKIE, new, path="/", httponly=True, samesite="Strict",
                            secure=request.secure or None)
    return response
