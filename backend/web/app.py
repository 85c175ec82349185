"""The app factory, used by ``python -m backend serve`` and by the tests alike."""
from __future__ import annotations

from typing import AsyncIterator, Optional

from aiohttp import web

from ..config import Settings
from ..db.database import Database
from ..workflow.engine import Workflow
from .auth import auth_middleware
from .errors import error_middleware
from .keys import DATABASE, SETTINGS, WORKFLOW
from .routes import setup_routes


@web.middleware
async def security_headers(request: web.Request, handler):
    response = await handler(request)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("X-Frame-Options", "DENY")
    if request.path.startswith("/api/"):
        response.headers.setdefault("Cache-Control", "no-store")
    return response


def create_app(settings: Settings, workflow: Optional[Workflow] = None) -> web.Application:
    app = web.Application(
        client_max_size=settings.max_body_bytes,
        middlewares=[security_headers, error_middleware, auth_middleware],
    )
    app[SETTINGS] = settings
    app[WORKFLOW] = workflow or Workflow(settings.timezone)

    async def database(app: web.Application) -> AsyncIterator[None]:
        app[DATABASE] = Database(settings.database_url)
        yield
        await app[DATABASE].dispose()

    app.cleanup_ctx.append(database)
    setup_routes(app)
    return app
