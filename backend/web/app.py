"""The app factory, used by ``python -m backend serve`` and by the tests alike."""
from __future__ import annotations

from typing import AsyncIterator, Optional

from aiohttp import web

from ..config import Settings
from ..db.database import Database
from ..workflow.engine import Workflow
from .accounts import setup_accounts
from .audit import audit_reads_middleware
from .auth import auth_middleware
from .csrf import csrf_middleware
from .errors import error_middleware
from .keys import DATABASE, SETTINGS, WORKFLOW
from .pages.errors import page_error_middleware
from .pages.rendering import setup_templates
from .proxies import forwarded_middleware, hsts_middleware
from .routes import setup_page_routes, setup_routes
from .sessions import is_page, session_middleware

# Pages load nothing from elsewhere and run no inline script; the SVG diagram is inline markup.
PAGE_CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")


@web.middleware
async def security_headers(request: web.Request, handler):
    response = await handler(request)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("X-Frame-Options", "DENY")
    if request.path.startswith("/api/"):
        response.headers.setdefault("Cache-Control", "no-store")
    elif is_page(request.path):
        response.headers.setdefault("Content-Security-Policy", PAGE_CSP)
    return response


def create_app(settings: Settings, workflow: Optional[Workflow] = None) -> web.Application:
    app = web.Application(
        client_max_size=settings.max_body_bytes,
        # Forwarded headers first: everything after sees the client's scheme (cookies' Secure, HSTS).
        middlewares=[forwarded_middleware, hsts_middleware, security_headers, error_middleware,
                     page_error_middleware, session_middleware, csrf_middleware, auth_middleware,
                     audit_reads_middleware],
    )
    app[SETTINGS] = settings
    app[WORKFLOW] = workflow or Workflow(settings.timezone)

    async def database(app: web.Application) -> AsyncIterator[None]:
        app[DATABASE] = Database(settings.database_url)
        yield
        await app[DATABASE].dispose()

    app.cleanup_ctx.append(database)
    setup_accounts(app)  # after the database: the login throttle may count in it
    setup_routes(app)
    setup_templates(app)
    setup_page_routes(app)
    return app
