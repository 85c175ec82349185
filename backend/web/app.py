"""The app factory, used by ``python -m backend serve`` and by the tests alike."""
from __future__ import annotations

from typing import AsyncIterator, Optional

from aiohttp import web
from aiohttp.web_request import FileField

from ..config import Settings
from ..db.database import Database
from ..files.store import file_store
from ..workflow.engine import Workflow
from .accounts import setup_accounts
from .audit import audit_reads_middleware
from .auth import auth_middleware
from .csrf import csrf_middleware
from .errors import error_middleware
from .keys import DATABASE, FILE_STORE, SETTINGS, WORKFLOW
from .pages.errors import page_error_middleware
from .pages.rendering import setup_templates
from .proxies import forwarded_middleware, hsts_middleware
from .routes import setup_page_routes, setup_routes
from .sessions import is_page, session_middleware

# Pages load nothing from elsewhere and run no inline script; the SVG diagram is inline markup.
PAGE_CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")


# Routes that take files: their bodies may be as large as the files allowed (FILES_MAX_MB ×
# FILES_MAX_COUNT); every other request keeps MAX_BODY_BYTES.
UPLOAD_ROUTES = {"files_upload", "page_files_upload", "page_matter_submit", "page_application_resubmit"}


@web.middleware
async def upload_size_middleware(request: web.Request, handler):
    """The upload routes' larger body limit; and the files a multipart form post spooled are
    closed once answered, whether or not a handler read them (a refused CSRF check did not)."""
    if request.method == "POST" and request.match_info.route.name in UPLOAD_ROUTES:
        request = request.clone(client_max_size=request.app[SETTINGS].files.max_request_bytes)
    try:
        return await handler(request)
    finally:
        # aiohttp keeps the parsed form on the request and has no public way to ask for it
        # without parsing the body (maybe read already as a stream).
        posted = getattr(request, "_post", None) if request.content_type == "multipart/form-data" else None
        for value in (posted or {}).values():
            if isinstance(value, FileField) and not value.file.closed:
                value.file.close()


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
        middlewares=[upload_size_middleware, forwarded_middleware, hsts_middleware, security_headers, error_middleware,
                     page_error_middleware, session_middleware, csrf_middleware, auth_middleware,
                     audit_reads_middleware],
    )
    app[SETTINGS] = settings
    app[WORKFLOW] = workflow or Workflow(settings.timezone)
    app[FILE_STORE] = file_store(settings.files)

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
