"""GET /audit: the audit log, for the college's system administrators (role 系统管理员)."""
from __future__ import annotations

from datetime import datetime, timezone

from aiohttp import web

from ...db import accounts, audit
from ...errors import Forbidden, InvalidInput
from ..auth import actor
from ..jsonio import int_query, json_response, text_query
from ..keys import DATABASE, SETTINGS

ADMIN_ROLE = "系统管理员"


def _since(request: web.Request):
    raw = text_query(request, "since", 40)
    if not raw:
        return None
    try:
        since = datetime.fromisoformat(raw)
        return (since if since.tzinfo else since.replace(tzinfo=timezone.utc)).astimezone(timezone.utc)
    except (ValueError, OverflowError):
        raise InvalidInput("bad_query", "参数 since 应为 ISO 8601 时间,如 2026-12-01T08:00:00+08:00") from None


async def list_audit_events(request: web.Request) -> web.Response:
    user = actor(request)
    if not await accounts.holds_role(request.app[DATABASE], user.id, ADMIN_ROLE):
        raise Forbidden("admin_only", "仅系统管理员可查看审计日志")
    found = await audit.entries(request.app[DATABASE], username=text_query(request, "user", 64) or None,
                                since=_since(request), event=text_query(request, "event", 32) or None,
                                limit=int_query(request, "limit", 100, 1, 1000))
    college = request.app[SETTINGS].timezone
    return json_response({"items": [{**entry.as_dict(), "at": entry.at.astimezone(college).isoformat(timespec="seconds")}
                                    for entry in found]})
