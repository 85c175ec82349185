"""Service centres and matters: GET /centers, /matters?q=, /matters/{code}, POST /matters/{code}/validate."""
from __future__ import annotations

from aiohttp import web

from ...errors import InvalidInput
from ...read.catalog import CatalogView
from ...workflow.forms import validate_form
from ..auth import actor
from ..jsonio import json_response, path_text, read_json, text_query
from ..keys import DATABASE, WORKFLOW
from ..services import view


def _code(request: web.Request) -> str:
    return path_text(request, "code", "matter_not_found", "没有找到该事项")


async def list_centers(request: web.Request) -> web.Response:
    async with request.app[DATABASE].read() as session:
        return json_response({"items": await view(request, session, CatalogView).centers(actor(request))})


async def search_matters(request: web.Request) -> web.Response:
    q = text_query(request, "q", 100)
    async with request.app[DATABASE].read() as session:
        return json_response({"items": await view(request, session, CatalogView).search_matters(q, actor(request))})


async def get_matter(request: web.Request) -> web.Response:
    async with request.app[DATABASE].read() as session:
        matter = await view(request, session, CatalogView).matter(_code(request), actor(request), to_apply=True)
    return json_response(matter)


async def validate_matter_form(request: web.Request) -> web.Response:
    """Check answers without submitting; ``partial`` checks only the fields given."""
    body = await read_json(request)
    partial = body.get("partial", False)
    if not isinstance(partial, bool):
        raise InvalidInput("bad_partial", "partial 应为 true 或 false")
    code = _code(request)
    async with request.app[DATABASE].read() as session:
        matter = await view(request, session, CatalogView).active_matter(code, actor(request), to_apply=True)
    workflow = request.app[WORKFLOW]
    today = workflow.now().astimezone(workflow.tz).date()
    cleaned = validate_form(matter.form_schema, body.get("form"), today, partial=partial)
    return json_response({"ok": True, "form": cleaned})
