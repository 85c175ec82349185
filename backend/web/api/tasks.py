"""Tasks: list, detail, and the decisions 同意 / 退回 / 加签 / 转办 / 委派 / an added signer's or a delegate's opinion."""
from __future__ import annotations

from aiohttp import web

from ...errors import InvalidInput
from ...read.tasks import TasksView
from .. import parse
from ..auth import actor
from ..idempotent import run_command
from ..jsonio import int_query, json_response, path_id, read_json
from ..keys import DATABASE
from ..services import handle, view


async def list_tasks(request: web.Request) -> web.Response:
    status = request.query.get("status", "pending")
    if status not in ("pending", "done"):
        raise InvalidInput("bad_query", "status 应为 pending 或 done")
    limit = int_query(request, "limit", 20, 1, 100)
    offset = int_query(request, "offset", 0, 0, 1_000_000)
    where = parse.task_filter(request.query, status)
    async with request.app[DATABASE].read() as session:
        return json_response(await view(request, session, TasksView).tasks(actor(request), status, limit, offset, where))


def _task_id(request: web.Request) -> int:
    return path_id(request, "task_not_found", "没有找到您的任务")


async def get_task(request: web.Request) -> web.Response:
    task_id = _task_id(request)
    async with request.app[DATABASE].read() as session:
        task = await view(request, session, TasksView).task(actor(request), task_id)
    return json_response(task)


def _decide(move: str):
    """A handler for one decision; all of them share parse → command → the task's new state."""

    async def handler(request: web.Request) -> web.Response:
        task_id = _task_id(request)
        body = await read_json(request)

        async def command(session, user):
            decision = await handle(request, session, user, parse.decision(move, task_id, body))
            return 200, view(request, session, TasksView).decided_task(decision.case, decision.task)

        return await run_command(request, body, command)

    handler.__name__ = f"{move}_task"
    return handler


approve_task = _decide("approve")
return_task = _decide("return")
add_signers = _decide("add_signers")
sign_task = _decide("sign")
transfer_task = _decide("transfer")
delegate_task = _decide("delegate")
remove_signers = _decide("remove_signers")
