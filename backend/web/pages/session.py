"""GET/POST /login and POST /logout."""
from __future__ import annotations

from aiohttp import web

from ..auth import authenticate
from ..keys import ACTOR, DATABASE
from ..sessions import log_in, log_out
from .rendering import render, safe_next, see_other


async def login_page(request: web.Request) -> web.Response:
    next_path = safe_next(request.query.get("next"))
    if request.get(ACTOR) is not None:
        raise see_other(next_path)
    return render(request, "login.html", {"next": next_path, "username": "", "error": None})


async def login(request: web.Request) -> web.Response:
    posted = await request.post()
    username, password = posted.get("username"), posted.get("password")
    next_path = safe_next(posted.get("next") if isinstance(posted.get("next"), str) else None)
    user = None
    if isinstance(username, str) and isinstance(password, str) and username.strip() and password:
        async with request.app[DATABASE].read() as session:
            user = await authenticate(session, username, password)
        error = "用户名或密码错误"
    else:
        error = "请输入用户名和密码"
    if user is None:
        shown = username if isinstance(username, str) else ""
        return render(request, "login.html", {"next": next_path, "username": shown, "error": error}, status=401)
    response = see_other(next_path)
    await log_in(request, user, response)
    raise response


async def logout(request: web.Request) -> web.Response:
    response = see_other("/login")
    await log_out(request, response)
    raise response
