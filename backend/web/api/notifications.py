"""GET /notifications and POST /notifications/read: what the assistant told someone without
WeCom (the web chat panel shows them; the same handlers serve /web/chat/notices)."""
from __future__ import annotations

from aiohttp import web

from ...db import web_notices
from ...errors import InvalidInput
from ..auth import actor
from ..jsonio import MAX_ID, int_query, json_response, read_json
from ..keys import DATABASE, WORKFLOW

MAX_LIMIT = 100


async def list_notifications(request: web.Request) -> web.Response:
    unread = request.query.get("unread", "0")
    if unread not in ("0", "1"):
        raise InvalidInput("bad_query", "参数 unread 应为 0 或 1")
    limit = int_query(request, "limit", 20, 1, MAX_LIMIT)
    async with request.app[DATABASE].read() as session:
        items = await web_notices.listed(session, actor(request).id, unread == "1", limit)
    return json_response({"items": items})


async def mark_notifications_read(request: web.Request) -> web.Response:
    body = await read_json(request)
    up_to = body.get("up_to")
    if not isinstance(up_to, int) or isinstance(up_to, bool) or up_to < 1:
        raise InvalidInput("bad_up_to", "up_to 应为正整数(已显示的最新通知 id)")
    async with request.app[DATABASE].write() as session:
        # Up to a number past every id: all of them (the column holds no larger one).
        marked = await web_notices.mark_read(session, actor(request).id, min(up_to, MAX_ID),
                                             request.app[WORKFLOW].now())
    return json_response({"marked": marked})
