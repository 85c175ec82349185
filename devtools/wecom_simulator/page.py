"""GET /_sim/: a small page to chat as a demo member and see what the app sent them."""
from __future__ import annotations

import html
from pathlib import Path

from aiohttp import web

from .api import SIMULATOR

TEMPLATE = (Path(__file__).parent / "page.html").read_text(encoding="utf-8")


async def index(request: web.Request) -> web.Response:
    sim = request.app[SIMULATOR]
    options = "".join(
        f'<option value="{html.escape(m.userid)}">{html.escape(m.name)} · '
        f'{html.escape(sim.directory.departments[m.department].name)} ({html.escape(m.userid)})</option>'
        for m in sim.directory.members.values())
    body = (TEMPLATE.replace("{{corp}}", html.escape(sim.config.corp_id))
            .replace("{{agent}}", str(sim.config.agent_id))
            .replace("{{callback}}", html.escape(sim.config.callback_url or "未配置"))
            .replace("{{options}}", options))
    return web.Response(text=body, content_type="text/html")


async def redirect(request: web.Request) -> web.Response:
    raise web.HTTPFound("/_sim/")


def add_routes(app: web.Application) -> None:
    app.router.add_get("/_sim/", index)
    app.router.add_get("/_sim", redirect)
    app.router.add_get("/", redirect)
