"""The org chart: GET /org/departments (tree), GET /org/users?q=&department=."""
from __future__ import annotations

from aiohttp import web

from ...read.people import PeopleView
from ..jsonio import int_query, json_response, text_query
from ..keys import DATABASE, SETTINGS
from ..services import view

async def department_tree(request: web.Request) -> web.Response:
    async with request.app[DATABASE].read() as session:
        return json_response(await view(request, session, PeopleView).departments_tree(request.app[SETTINGS].college_name))


async def search_users(request: web.Request) -> web.Response:
    q = text_query(request, "q", 64)
    limit = int_query(request, "limit", 20, 1, 100)
    department = text_query(request, "department", 64) or None
    async with request.app[DATABASE].read() as session:
        items = await view(request, session, PeopleView).search_users(q, department, limit)
    return json_response({"items": items})
