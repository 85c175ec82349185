"""POST /auth/login, GET /me."""
from __future__ import annotations

from aiohttp import web

from ...auth.tokens import issue_token
from ...errors import InvalidInput, NotAuthenticated
from ...read.people import PeopleView
from ..auth import actor, authenticate
from ..jsonio import json_response, read_json
from ..keys import DATABASE, SETTINGS
from ..services import view


async def login(request: web.Request) -> web.Response:
    body = await read_json(request)
    username, password = body.get("username"), body.get("password")
    if not isinstance(username, str) or not isinstance(password, str) or not username or not password:
        raise InvalidInput("credentials_required", "请输入用户名和密码")
    settings = request.app[SETTINGS]
    async with request.app[DATABASE].read() as session:
        user = await authenticate(session, username, password)
        if user is None:
            raise NotAuthenticated("login_failed", "用户名或密码错误")
        me = await view(request, session, PeopleView).me(user)
    token = issue_token(settings.secret_key, user.id, user.username, settings.token_ttl_seconds)
    return json_response({"token": token, "token_type": "Bearer",
                          "expires_in": settings.token_ttl_seconds, "user": me})


async def me(request: web.Request) -> web.Response:
    async with request.app[DATABASE].read() as session:
        return json_response(await view(request, session, PeopleView).me(actor(request)))
