"""Who is browsing the web hall: a server-side session named by an HttpOnly cookie.

The logged-in user becomes the request's ACTOR, the same key the JSON API uses, so page
handlers call the same services with the same permissions. Pages other than the login
page need a session: a GET is sent to the login page (inside WeCom: to WeCom's sign-in,
pages/wecom_sign_in.py), anything else gets 401. A person who must change their password
(an imported initial one, an administrator's reset) sees only the change-password page until
they have: a GET is sent there, anything else gets 403 — in a session started with that
password; one started by CAS single sign-on or by WeCom's used none.
"""
from __future__ import annotations

from typing import Optional
from urllib.parse import quote

from aiohttp import web

from ..db import web_sessions
from ..db.models import User
from ..db.web_sessions import LiveSession
from ..errors import Forbidden, NotAuthenticated
from .auth import CHANNEL
from .helpdesk_access import HELPDESK_NAV, is_helpdesk
from .keys import ACTOR, DATABASE, SETTINGS, WORKFLOW

COOKIE = "campus_session"
WEB_SESSION = web.RequestKey("web_session", LiveSession)
WECOM_ENTRY = "/wecom/enter"  # pages/wecom_sign_in.py: signing in from inside WeCom
PUBLIC_PAGES = {"/login", WECOM_ENTRY, "/wecom/callback"}
PASSWORD_PAGE = "/password"
BEFORE_PASSWORD_CHANGE = {PASSWORD_PAGE, "/logout", "/login"}


def is_page(path: str) -> bool:
    """Everything but the JSON API and static files is a page (or a page's own endpoint)."""
    return not path.startswith(("/api/", "/static/"))


def login_url(next_path: str) -> str:
    return "/login?next=" + quote(next_path, safe="")


def sign_in_url(request: web.Request, next_path: str) -> str:
    """The login page; inside WeCom (its browser says wxwork), WeCom's sign-in when configured."""
    if "wxwork" in request.headers.get("User-Agent", "").lower() and request.app[SETTINGS].wecom_sign_in:
        return WECOM_ENTRY + "?next=" + quote(next_path, safe="")
    return login_url(next_path)


async def _live_session(request: web.Request) -> Optional[LiveSession]:
    cookie = request.cookies.get(COOKIE)
    if not cookie:
        return None
    async with request.app[DATABASE].read() as session:
        return await web_sessions.find(session, cookie, request.app[WORKFLOW].now())


@web.middleware
async def session_middleware(request: web.Request, handler):
    if not is_page(request.path):
        return await handler(request)
    live = await _live_session(request)
    if live is not None:
        request[WEB_SESSION] = live
        request[ACTOR] = live.user
        request[CHANNEL] = "web"
        request[HELPDESK_NAV] = await is_helpdesk(request, live.user)
        if live.user.must_change_password and live.method == "password" \
                and request.path not in BEFORE_PASSWORD_CHANGE:
            if request.method in ("GET", "HEAD"):
                raise web.HTTPSeeOther(PASSWORD_PAGE + "?next=" + quote(request.path_qs, safe=""))
            raise Forbidden("password_change_required", "请先修改初始密码")
    elif request.path not in PUBLIC_PAGES:
        if request.method in ("GET", "HEAD"):
            raise web.HTTPSeeOther(sign_in_url(request, request.path_qs))
        raise NotAuthenticated("not_authenticated", "登录已失效,请重新登录")
    return await handler(request)


async def log_in(request: web.Request, user: User, response: web.StreamResponse,
                 method: str = "password") -> str:
    """Start a session for ``user`` and put its cookie on ``response``; returns the cookie value.
    ``method``: how the person proved who they are (password | cas | wecom)."""
    ttl = request.app[SETTINGS].token_ttl_seconds
    async with request.app[DATABASE].write() as session:
        cookie, _ = await web_sessions.start(session, user, request.app[WORKFLOW].now(), ttl, method)
    response.set_cookie(COOKIE, cookie, max_age=ttl, path="/", httponly=True, samesite="Lax",
                        secure=request.secure or None)
    return cookie


async def log_out(request: web.Request, response: web.StreamResponse) -> None:
    cookie = request.cookies.get(COOKIE)
    if cookie:
        async with request.app[DATABASE].write() as session:
            await web_sessions.end(session, cookie)
    response.del_cookie(COOKIE, path="/")
