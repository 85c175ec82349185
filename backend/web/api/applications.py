"""Applications: submit, list mine, detail, resubmit, terminate; the applicant's 撤回 and 催办,
anyone's on it 备注."""
from __future__ import annotations

from aiohttp import web

from ...errors import InvalidInput
from ...read.applications import ApplicationsView
from ...workflow import transitions as t
from .. import parse
from ..auth import actor
from ..idempotent import run_command
from ..jsonio import int_query, json_response, path_id, read_json
from ..keys import DATABASE
from ..services import handle, view


async def submit_application(request: web.Request) -> web.Response:
    body = await read_json(request)

    async def command(session, user):
        application = await handle(request, session, user, parse.submit(body))
        return 201, await view(request, session, ApplicationsView).application(user, application.id)

    return await run_command(request, body, command)


async def list_applications(request: web.Request) -> web.Response:
    status = request.query.get("status") or None
    if status is not None and status not in t.APPLICATION_STATES:
        raise InvalidInput("bad_query", "status 应为 " + " / ".join(t.APPLICATION_STATES))
    cc = request.query.get("cc", "0")
    if cc not in ("0", "1", "true", "false"):
        raise InvalidInput("bad_query", "cc 应为 1(抄送我的)或 0")
    cc_mine = cc in ("1", "true")
    if request.query.get("mine", "1") not in ("1", "true") and not cc_mine:
        raise InvalidInput("bad_query", "只能查看本人的申请(mine=1)或抄送我的(cc=1)")
    limit = int_query(request, "limit", 20, 1, 100)
    offset = int_query(request, "offset", 0, 0, 1_000_000)
    async with request.app[DATABASE].read() as session:
        listing = await view(request, session, ApplicationsView).applications(actor(request), status, limit, offset,
                                                                              cc=cc_mine)
    return json_response(listing)


def _application_id(request: web.Request) -> int:
    return path_id(request, "application_not_found", "没有找到申请")


async def get_application(request: web.Request) -> web.Response:
    application_id = _application_id(request)
    async with request.app[DATABASE].read() as session:
        return json_response(await view(request, session, ApplicationsView).application(actor(request), application_id))


async def resubmit_application(request: web.Request) -> web.Response:
    application_id = _application_id(request)
    body = await read_json(request)

    async def command(session, user):
        await handle(request, session, user, parse.resubmit(application_id, body))
        return 200, await view(request, session, ApplicationsView).application(user, application_id)

    return await run_command(request, body, command)


async def terminate_applications(request: web.Request) -> web.Response:
    body = await read_json(request)

    async def command(session, user):
        finished = await handle(request, session, user, parse.terminate(body))
        views = view(request, session, ApplicationsView)
        return 200, {"items": [await views.application(user, a.id) for a in finished]}

    return await run_command(request, body, command)


def _on_application(parser):
    """A handler for a command on one application, answered with the application's detail."""

    async def handler(request: web.Request) -> web.Response:
        application_id = _application_id(request)
        body = await read_json(request)

        async def command(session, user):
            await handle(request, session, user, parser(application_id, body))
            return 200, await view(request, session, ApplicationsView).application(user, application_id)

        return await run_command(request, body, command)

    handler.__name__ = f"{parser.__name__}_application"
    return handler


withdraw_application = _on_application(parse.withdraw)
comment_application = _on_application(parse.comment)
remind_application = _on_application(parse.remind)
cc_application = _on_application(parse.carbon_copy)
