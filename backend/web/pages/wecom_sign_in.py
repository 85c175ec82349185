"""Signing in from inside WeChat Work (企业微信网页授权, OAuth2): no password.

GET /wecom/enter?next=PATH — where a hall page opened in WeCom without a session is sent (the
session middleware sends WeCom's browser, User-Agent ``wxwork``, here instead of /login; links
the assistant sends in WeCom start here). A random ``state`` goes into a cookie of this browser,
then the browser goes to WeCom's authorize URL (WECOM_AUTHORIZE_URL), which sends it back to
BACKEND_PUBLIC_URL/wecom/callback?next=PATH with ``code`` and ``state``.

GET /wecom/callback — the state must be this browser's; WeCom's auth/getuserinfo turns the code
(single use, 5 minutes) into the member's userid; the person with that WeCom userid (users'
``wecom_userid``, as the channel maps them) gets a session like a password login's, audited with
channel ``wecom`` and marked ``wecom`` (a forced password change stops password sessions only),
and continues to the safe ``next``. Anything else — a forged or missing state, a bad or used
code, someone outside the corp, an id bound to nobody — is refused with nothing signed in.
"""
from __future__ import annotations

import hmac
import logging
import secrets
from typing import AsyncIterator, Optional
from urllib.parse import quote

import aiohttp
from aiohttp import web

from wecom_api import WeComClient, WeComError, WeComUnavailable, authorize_url

from ...db import audit
from ...db.org import active_user
from ...errors import AppError, Forbidden
from ..accounts import Caller
from ..auth import identity_filter
from ..keys import ACTOR, DATABASE, SETTINGS
from ..sessions import log_in, login_url
from .rendering import safe_next, see_other

log = logging.getLogger(__name__)

ENTRY, CALLBACK = "/wecom/enter", "/wecom/callback"
STATE_COOKIE = "campus_wecom_state"
STATE_TTL = 600
CHANNEL = "wecom"
CLIENT = web.AppKey("wecom_sign_in_client", WeComClient)
AGAIN = "请从企业微信重新打开办事大厅"


class WeComUnreachable(AppError):
    status = 503


def entry_url(next_path: str) -> str:
    return ENTRY + "?next=" + quote(next_path, safe="")


def setup(app: web.Application) -> None:
    """The WeCom API client of the sign-in (its token cached), when the sign-in is configured."""
    settings = app[SETTINGS]
    if not settings.wecom_sign_in:
        return
    wecom = settings.wecom
    assert wecom is not None

    async def client(app: web.Application) -> AsyncIterator[None]:
        async with aiohttp.ClientSession() as session:
            app[CLIENT] = WeComClient(wecom.api_base, wecom.corp_id, wecom.secret, session, agent_id=wecom.agent_id)
            yield

    app.cleanup_ctx.append(client)


async def enter(request: web.Request) -> web.StreamResponse:
    next_path = safe_next(request.query.get("next"))
    settings = request.app[SETTINGS]
    if request.get(ACTOR) is not None:
        raise see_other(next_path)
    if not settings.wecom_sign_in:
        raise see_other(login_url(next_path))
    assert settings.wecom is not None and settings.public_url is not None
    state = secrets.token_urlsafe(24)
    back = f"{settings.public_url}{CALLBACK}?next={quote(next_path, safe='')}"
    response = web.HTTPFound(authorize_url(settings.wecom_authorize_url, settings.wecom.corp_id,
                                           settings.wecom.agent_id, back, state))
    response.set_cookie(STATE_COOKIE, state, max_age=STATE_TTL, path=CALLBACK, httponly=True, samesite="Lax",
                        secure=request.secure or None)
    response.headers["Cache-Control"] = "no-store"
    raise response


async def callback(request: web.Request) -> web.StreamResponse:
    next_path = safe_next(request.query.get("next"))
    if not request.app[SETTINGS].wecom_sign_in:
        raise see_other(login_url(next_path))
    expected, state = request.cookies.get(STATE_COOKIE, ""), request.query.get("state", "")
    if not expected or not hmac.compare_digest(expected.encode(), state.encode()):
        await _refused(request, "bad_state")
        raise Forbidden("wecom_state_invalid", f"企业微信登录请求无效或已过期,{AGAIN}")
    userid = await _member_of(request, request.query.get("code", ""))
    user = await active_user(request.app[DATABASE], identity_filter(f"wecom:{userid}"))
    if user is None:
        await _refused(request, f"unbound:{userid}")
        phone = request.app[SETTINGS].helpdesk_phone
        raise Forbidden("identity_not_bound", f"您的企业微信账号尚未绑定校务服务系统,请用账号密码登录,如有疑问请致电 {phone}")
    caller = Caller.of(request, CHANNEL)
    await audit.record(request.app[DATABASE], audit.LOGIN_SUCCEEDED, CHANNEL, user_id=user.id,
                       username=user.username, address=caller.address, user_agent=caller.user_agent,
                       target=f"wecom:{userid}")
    response = see_other(next_path)
    await log_in(request, user, response, method=CHANNEL)
    response.del_cookie(STATE_COOKIE, path=CALLBACK)
    raise response


async def _member_of(request: web.Request, code: str) -> str:
    """The WeCom userid the code was issued to; refused for a bad or used code and for non-members."""
    if not code:
        await _refused(request, "no_code")
        raise Forbidden("wecom_code_invalid", f"企业微信没有给出登录凭证,{AGAIN}")
    try:
        answer = await request.app[CLIENT].getuserinfo(code)
    except WeComUnavailable as error:
        log.warning("WeCom sign-in: getuserinfo unreachable: %s", error.errmsg)
        raise WeComUnreachable("wecom_unavailable", "暂时无法连接企业微信,请稍后再试") from None
    except WeComError as error:
        await _refused(request, f"errcode:{error.errcode}")
        raise Forbidden("wecom_code_invalid", f"企业微信登录凭证无效或已使用,{AGAIN}") from None
    userid = answer.get("userid")
    if not isinstance(userid, str) or not userid:
        await _refused(request, "not_member")
        raise Forbidden("wecom_not_member", "您不是本校企业微信的成员,请用账号密码登录办事大厅")
    return userid


async def _refused(request: web.Request, reason: Optional[str]) -> None:
    caller = Caller.of(request, CHANNEL)
    await audit.record(request.app[DATABASE], audit.LOGIN_FAILED, CHANNEL, address=caller.address,
                       user_agent=caller.user_agent, target=f"wecom:{reason}")
