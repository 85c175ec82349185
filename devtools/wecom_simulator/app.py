"""The aiohttp application: WeCom API + control API + page around one Simulator."""
from __future__ import annotations

import time
from typing import AsyncIterator, Callable, Optional

import aiohttp
from aiohttp import web

from . import api, control, oauth, page
from .api import SIMULATOR
from .callback import CallbackClient
from .config import SimulatorConfig
from .contacts import Directory
from .core import Simulator


def create_app(config: SimulatorConfig, directory: Optional[Directory] = None,
               clock: Callable[[], float] = time.time) -> web.Application:
    simulator = Simulator(config, directory or Directory.from_org_file(config.org_path), clock)
    app = web.Application(client_max_size=config.max_body_bytes, middlewares=[control.control_errors])
    app[SIMULATOR] = simulator

    async def callback_session(app: web.Application) -> AsyncIterator[None]:
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=200)) as session:
            simulator.callback = CallbackClient(config, session)
            yield

    app.cleanup_ctx.append(callback_session)
    api.add_routes(app)
    oauth.add_routes(app)
    control.add_routes(app)
    page.add_routes(app)
    return app
