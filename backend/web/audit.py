"""Sensitive reads recorded in the audit log: an application's or a task's details (an
approver reads someone else's matter; applicants reading their own are recorded too — one
rule, no extra lookup) and searches of the people directory. One INSERT after the answer
is ready, only for successful reads; the workflow's transactions are never touched.
"""
from __future__ import annotations

from aiohttp import web

from ..db import audit
from .auth import CHANNEL
from .keys import ACTOR, DATABASE

# route name → what is read
SENSITIVE_READS = {
    "application": "application", "page_application_progress": "application",
    "task": "task", "page_task": "task",
    "file": "file", "page_file": "file",
    "users": "users", "page_org_users": "users",
}


def _target(request: web.Request, kind: str) -> str:
    if kind == "users":
        return f"users?q={request.query.get('q', '')}"
    return f"{kind}:{request.match_info.get('id', '')}"


@web.middleware
async def audit_reads_middleware(request: web.Request, handler):
    response = await handler(request)
    if request.method != "GET" or response.status != 200:
        return response
    route = request.match_info.route.name
    kind = SENSITIVE_READS.get(route or "")
    user = request.get(ACTOR)
    if kind and user is not None:
        await audit.record(request.app[DATABASE], "read", request.get(CHANNEL, "api"), user_id=user.id,
                           username=user.username, address=request.remote,
                           user_agent=request.headers.get("User-Agent", ""), target=_target(request, kind))
    return response
