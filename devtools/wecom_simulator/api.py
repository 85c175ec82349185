"""WeCom's server API under /cgi-bin/, answering exactly like the real one (HTTP 200 + errcode)."""
from __future__ import annotations

import asyncio
import functools
import json
from typing import Any, Awaitable, Callable
from urllib.parse import quote

from aiohttp import web

from .core import Simulator
from .errors import WeComApiError, fail, ok

SIMULATOR = web.AppKey("simulator", Simulator)
Handler = Callable[[Simulator, web.Request], Awaitable[dict[str, Any]]]


def wecom_api(path: str) -> Callable[[Handler], Callable[[web.Request], Awaitable[web.Response]]]:
    """Check the access_token, apply injected faults, turn WeComApiError into its JSON."""
    def wrap(handler: Handler) -> Callable[[web.Request], Awaitable[web.Response]]:
        @functools.wraps(handler)
        async def endpoint(request: web.Request) -> web.Response:
            sim = request.app[SIMULATOR]
            try:
                sim.tokens.check(request.query.get("access_token"))
                fault = sim.faults.take(path)
                if fault is not None and fault.delay:
                    answer = await handler(sim, request)  # done, but answered too late for the caller
                    await asyncio.sleep(fault.delay)
                    return ok(**answer)
                if fault is not None:
                    if fault.http_status != 200:
                        return web.Response(status=fault.http_status, text="Bad Gateway (injected by the simulator)")
                    raise WeComApiError(fault.errcode, "injected by the simulator")
                return ok(**await handler(sim, request))
            except WeComApiError as error:
                return fail(error)
        return endpoint
    return wrap


async def json_body(request: web.Request) -> dict[str, Any]:
    try:
        payload = json.loads(await request.text())
    except (ValueError, UnicodeDecodeError):
        raise WeComApiError(47001, "request body is not JSON") from None
    if not isinstance(payload, dict):
        raise WeComApiError(47001, "request body must be a JSON object")
    return payload


async def gettoken(request: web.Request) -> web.Response:
    sim = request.app[SIMULATOR]
    corpid, secret = request.query.get("corpid"), request.query.get("corpsecret")
    if not corpid:
        return fail(WeComApiError(41002))
    if not secret:
        return fail(WeComApiError(41004))
    if corpid != sim.config.corp_id:
        return fail(WeComApiError(40013))
    if secret != sim.config.secret:
        return fail(WeComApiError(40001))
    fault = sim.faults.take("gettoken")
    if fault is not None:
        if fault.http_status != 200:
            return web.Response(status=fault.http_status, text="Bad Gateway (injected by the simulator)")
        return fail(WeComApiError(fault.errcode, "injected by the simulator"))
    token, expires_in = sim.tokens.get()
    return ok(access_token=token, expires_in=expires_in)


@wecom_api("message/send")
async def message_send(sim: Simulator, request: web.Request) -> dict[str, Any]:
    return sim.send(await json_body(request))


@wecom_api("message/update_template_card")
async def update_template_card(sim: Simulator, request: web.Request) -> dict[str, Any]:
    return sim.update_card(await json_body(request))


def _department_id(request: web.Request, name: str, sim: Simulator, required: bool) -> Any:
    raw = request.query.get(name)
    if not raw:
        if required:
            raise WeComApiError(40058, f"{name} missing")
        return None
    if not raw.isdigit() or int(raw) not in sim.directory.departments:
        raise WeComApiError(60123)
    return int(raw)


@wecom_api("department/list")
async def department_list(sim: Simulator, request: web.Request) -> dict[str, Any]:
    root = _department_id(request, "id", sim, required=False) or 1
    return {"department": [d.as_api() for d in sim.directory.subtree(root)]}


def _members(sim: Simulator, request: web.Request) -> list[Any]:
    department = _department_id(request, "department_id", sim, required=True)
    return sim.directory.members_of(department, with_children=request.query.get("fetch_child") == "1")


@wecom_api("user/list")
async def user_list(sim: Simulator, request: web.Request) -> dict[str, Any]:
    return {"userlist": [m.as_api() for m in _members(sim, request)]}


@wecom_api("user/simplelist")
async def user_simplelist(sim: Simulator, request: web.Request) -> dict[str, Any]:
    return {"userlist": [m.as_simple() for m in _members(sim, request)]}


@wecom_api("user/get")
async def user_get(sim: Simulator, request: web.Request) -> dict[str, Any]:
    member = sim.directory.member(request.query.get("userid") or "")
    if member is None:
        raise WeComApiError(60111)
    return member.as_api()


async def media_get(request: web.Request) -> web.Response:
    """media/get: the file itself with its type and name (as a download), or WeCom's JSON error."""
    sim = request.app[SIMULATOR]
    try:
        sim.tokens.check(request.query.get("access_token"))
        fault = sim.faults.take("media/get")
        if fault is not None:
            if fault.http_status != 200:
                return web.Response(status=fault.http_status, text="Bad Gateway (injected by the simulator)")
            raise WeComApiError(fault.errcode, "injected by the simulator")
        media_id = request.query.get("media_id")
        if not media_id:
            raise WeComApiError(41006)
        found = sim.media.get(media_id)
        if found is None:
            raise WeComApiError(40007)
    except WeComApiError as error:
        return fail(error)
    return web.Response(body=found.data, content_type=found.content_type, headers={
        "Content-Disposition": f'attachment; filename="{quote(found.filename)}"',
        "Cache-Control": "no-cache, must-revalidate"})


def add_routes(app: web.Application) -> None:
    app.router.add_get("/cgi-bin/gettoken", gettoken)
    app.router.add_post("/cgi-bin/message/send", message_send)
    app.router.add_post("/cgi-bin/message/update_template_card", update_template_card)
    app.router.add_get("/cgi-bin/department/list", department_list)
    app.router.add_get("/cgi-bin/user/list", user_list)
    app.router.add_get("/cgi-bin/user/simplelist", user_simplelist)
    app.router.add_get("/cgi-bin/user/get", user_get)
    app.router.add_get("/cgi-bin/media/get", media_get)
