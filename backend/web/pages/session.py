"""GET/POST /login, POST /logout, GET/POST /password (change one's own password)."""
from __future__ import annotations

from urllib.parse import quote

from aiohttp import web

from ...auth.policy import POLICY_TEXT
from ...errors import InvalidInput, NotAuthenticated
from ..accounts import LoginBusy, TooManyAttempts, change_password, log_in_with_password, with_retry_after
from ..keys import ACTOR
from ..sessions import COOKIE, log_in, log_out
from .rendering import render, safe_next, see_other

PASSWORD_PAGE = "/password"


def _text(posted, name: str) -> str:
    value = posted.get(name)
    return value if isinstance(value, str) else ""


def change_password_url(next_path: str) -> str:
    return PASSWORD_PAGE + ("" if next_path == "/" else "?next=" + quote(next_path, safe=""))


async def login_page(request: web.Request) -> web.Response:
    next_path = safe_next(request.query.get("next"))
    if request.get(ACTOR) is not None:
        raise see_other(next_path)
    return render(request, "login.html", {"next": next_path, "username": "", "error": None})


async def login(request: web.Request) -> web.StreamResponse:
    posted = await request.post()
    username, password = _text(posted, "username"), _text(posted, "password")
    next_path = safe_next(_text(posted, "next") or None)

    def again(error: str, status: int) -> web.Response:
        return render(request, "login.html", {"next": next_path, "username": username, "error": error},
                      status=status)

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
    response = see_other("/login")
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
