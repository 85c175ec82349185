"""GET/POST /login, POST /logout, GET/POST /password (change one's own password).

With CAS configured (CAS_SERVER_URL), GET /login sends people to the college's CAS login and
is also where CAS sends them back (``?ticket=``) and where its single-logout POST arrives;
``/login?local=1`` is the local-password form, for accounts without CAS."""
from __future__ import annotations

from urllib.parse import quote

from aiohttp import web

from ...auth.policy import POLICY_TEXT
from ...db import audit, cas_tickets
from ...db.models import User
from ...db.org import active_user
from ...errors import InvalidInput, NotAuthenticated
from .. import cas
from ..accounts import (Caller, LoginBusy, TooManyAttempts, change_password, log_in_with_password,
                        with_retry_after)
from ..keys import ACTOR, DATABASE, SETTINGS, WORKFLOW
from ..sessions import COOKIE, WEB_SESSION, log_in, log_out
from .rendering import render, safe_next, see_other

PASSWORD_PAGE = "/password"


def _text(posted, name: str) -> str:
    value = posted.get(name)
    return value if isinstance(value, str) else ""


def change_password_url(next_path: str) -> str:
    return PASSWORD_PAGE + ("" if next_path == "/" else "?next=" + quote(next_path, safe=""))


def _login_context(request: web.Request, next_path: str, username: str = "", error: str | None = None,
                   local: bool = True) -> dict:
    """``local``: the password form (always, without CAS); else a CAS sign-in that was refused."""
    going = "" if next_path == "/" else "next=" + quote(next_path, safe="")
    return {"next": next_path, "username": username, "error": error, "local": local,
            "cas": cas.enabled(request.app[SETTINGS]),
            "cas_login": "/login" + (f"?{going}" if going else ""),
            "local_login": "/login?local=1" + (f"&{going}" if going else "")}


async def login_page(request: web.Request) -> web.Response:
    next_path = safe_next(request.query.get("next"))
    if request.get(ACTOR) is not None:
        raise see_other(next_path)
    settings = request.app[SETTINGS]
    if cas.enabled(settings) and request.query.get("local") != "1":
        ticket = request.query.get("ticket")
        if ticket:
            return await _cas_callback(request, ticket, next_path)
        raise see_other(cas.login_url(settings, next_path))
    return render(request, "login.html", _login_context(request, next_path))


async def _cas_callback(request: web.Request, ticket: str, next_path: str) -> web.Response:
    """CAS sent the browser back with a service ticket: validate it, map cas:user to the person."""
    settings, caller = request.app[SETTINGS], Caller.of(request, "cas")

    def refused(error: str, status: int) -> web.Response:
        return render(request, "login.html", _login_context(request, next_path, error=error, local=False),
                      status=status)

    async with request.app[DATABASE].read() as session:
        replayed = await cas_tickets.seen(session, ticket)
    try:
        if replayed:
            raise cas.TicketRefused("ticket already used here")
        username = await cas.validate(settings, ticket, cas.service_url(settings, next_path))
    except cas.TicketRefused:
        await audit.record(request.app[DATABASE], audit.LOGIN_FAILED, "cas", address=caller.address,
                           user_agent=caller.user_agent, target="cas_ticket_refused")
        return refused("统一身份认证票据无效或已使用,请重新登录", 401)
    except cas.CasUnavailable:
        return refused(f"暂时无法连接学校统一身份认证服务,请稍后再试或致电 {settings.helpdesk_phone}", 502)
    user = await active_user(request.app[DATABASE], User.username == username)
    if user is None:
        await audit.record(request.app[DATABASE], audit.LOGIN_FAILED, "cas", username=username,
                           address=caller.address, user_agent=caller.user_agent, target="cas_unknown_user")
        return refused(f"统一身份认证账号 {username} 尚未开通校务服务大厅,请致电 {settings.helpdesk_phone} 开通", 403)
    await audit.record(request.app[DATABASE], audit.LOGIN_SUCCEEDED, "cas", user_id=user.id, username=user.username,
                       address=caller.address, user_agent=caller.user_agent)
    response = see_other(next_path)
    cookie = await log_in(request, user, response, method="cas")
    async with request.app[DATABASE].write() as session:
        await cas_tickets.remember(session, ticket, cookie, request.app[WORKFLOW].now())
    raise response


async def _cas_single_logout(request: web.Request, logout_request: str) -> web.Response:
    """The CAS server's back-channel POST: the session its ticket started ends (an unknown
    ticket changes nothing; the answer is the same)."""
    ticket = cas.logout_request_ticket(logout_request)
    if ticket:
        async with request.app[DATABASE].write() as session:
            await cas_tickets.end_session_of(session, ticket)
    return web.Response(text="ok")


async def login(request: web.Request) -> web.StreamResponse:
    posted = await request.post()
    if "logoutRequest" in posted and cas.enabled(request.app[SETTINGS]):
        # Never a password login: csrf.py lets only this through untokened.
        return await _cas_single_logout(request, _text(posted, "logoutRequest"))
    username, password = _text(posted, "username"), _text(posted, "password")
    next_path = safe_next(_text(posted, "next") or None)

    def again(error: str, status: int) -> web.Response:
        return render(request, "login.html", _login_context(request, next_path, username, error), status=status)

    if not username.strip() or not password:
        return again("请输入用户名和密码", 401)
    try:
        user = await log_in_with_password(request, username, password, "web")
    except NotAuthenticated as error:
        return again(error.message, 401)
    except (TooManyAttempts, LoginBusy) as error:
        return with_retry_after(again(error.message, error.status), error)
    response = see_other(change_password_url(next_path) if user.must_change_password else next_path)
    await log_in(request, user, response)
    raise response


async def logout(request: web.Request) -> web.Response:
    """A CAS session also ends the person's CAS single sign-on (CAS then returns them to /login)."""
    settings, live = request.app[SETTINGS], request.get(WEB_SESSION)
    via_cas = cas.enabled(settings) and live is not None and live.method == "cas"
    response = see_other(cas.logout_url(settings) if via_cas else "/login?local=1" if cas.enabled(settings)
                         else "/login")
    await log_out(request, response)
    raise response


def _password_context(request: web.Request, next_path: str, error: str | None = None) -> dict:
    return {"next": next_path, "error": error, "policy": POLICY_TEXT,
            "forced": request[ACTOR].must_change_password}


async def password_page(request: web.Request) -> web.Response:
    next_path = safe_next(request.query.get("next"))
    context = _password_context(request, next_path)
    if request.query.get("changed") == "1":
        context["notice"] = "密码已修改。其他设备上的登录已退出。"
    return render(request, "password.html", context)


async def change_my_password(request: web.Request) -> web.StreamResponse:
    posted = await request.post()
    current, new, again = _text(posted, "current_password"), _text(posted, "new_password"), _text(posted, "confirm")
    next_path = safe_next(_text(posted, "next") or None)

    def refused(message: str, status: int = 400) -> web.Response:
        return render(request, "password.html", _password_context(request, next_path, message), status=status)

    if not current or not new:
        return refused("请输入当前密码和新密码")
    if new != again:
        return refused("两次输入的新密码不一致")
    user = request[ACTOR]
    try:
        await change_password(request, user, current, new, "web", keep_cookie=request.cookies.get(COOKIE))
    except InvalidInput as error:
        return refused(error.message)
    except (TooManyAttempts, LoginBusy) as error:
        return with_retry_after(refused(error.message, error.status), error)
    # A forced change continues where the person was going; a voluntary one says it is done.
    raise see_other(next_path if user.must_change_password else PASSWORD_PAGE + "?changed=1")
