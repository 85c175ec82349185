"""POST /auth/login, GET /me, POST /me/password."""
from __future__ import annotations

from aiohttp import web

from ...auth.tokens import issue_token
from ...errors import InvalidInput
from ...read.people import PeopleView
from ..accounts import LoginBusy, TooManyAttempts, change_password, log_in_with_password, with_retry_after
from ..auth import actor
from ..errors import error_response
from ..jsonio import json_response, read_json
from ..keys import DATABASE, SETTINGS
from ..services import view


def _token_body(request: web.Request, user_id: int, username: str, version: int) -> dict:
    settings = request.app[SETTINGS]
    token = issue_token(settings.secret_key, user_id, username, settings.token_ttl_seconds, version=version)
    return {"token": token, "token_type": "Bearer", "expires_in": settings.token_ttl_seconds}


def _refused(error: TooManyAttempts | LoginBusy) -> web.StreamResponse:
    return with_retry_after(error_response(error.status, error.code, error.message, error.details), error)


async def login(request: web.Request) -> web.StreamResponse:
    body = await read_json(request)
    username, password = body.get("username"), body.get("password")
    if not isinstance(username, str) or not isinstance(password, str) or not username or not password:
        raise InvalidInput("credentials_required", "请输入用户名和密码")
    try:
        user = await log_in_with_password(request, username, password, "api")
    except (TooManyAttempts, LoginBusy) as error:
        return _refused(error)
    async with request.app[DATABASE].read() as session:
        me = await view(request, session, PeopleView).me(user)
    return json_response({**_token_body(request, user.id, user.username, user.credentials_version), "user": me,
                          "password_change_required": user.must_change_password})


async def me(request: web.Request) -> web.Response:
    async with request.app[DATABASE].read() as session:
        return json_response(await view(request, session, PeopleView).me(actor(request)))


async def change_my_password(request: web.Request) -> web.StreamResponse:
    """The caller's own password; answers a fresh token (every earlier one stops working)."""
    body = await read_json(request)
    current, new = body.get("current_password"), body.get("new_password")
    if not isinstance(current, str) or not isinstance(new, str) or not current or not new:
        raise InvalidInput("passwords_required", "请输入当前密码和新密码")
    user = actor(request)
    try:
        version = await change_password(request, user, current, new, "api")
    except (TooManyAttempts, LoginBusy) as error:
        return _refused(error)
    return json_response(_token_body(request, user.id, user.username, version))
