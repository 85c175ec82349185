"""Template set-up and the few helpers every page handler shares."""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Optional
from urllib.parse import urlsplit

import aiohttp_jinja2
import jinja2
from aiohttp import web

from ..csrf import FIELD, token_for
from ..helpdesk_access import HELPDESK_NAV
from ..keys import ACTOR, SETTINGS

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
STATIC = Path(__file__).resolve().parent.parent / "static"

STATE_LABELS = {"done": "已完成", "current": "办理中", "waiting": "未开始", "returned": "已退回",
                "terminated": "已终止"}


def when(value: Optional[str]) -> str:
    """ISO time from the read models → 2026-11-28 14:30."""
    return value[:16].replace("T", " ") if value else ""


def shown_value(value: Any) -> str:
    if isinstance(value, list):
        return "、".join(str(v) for v in value)
    return "" if value is None else str(value)


def input_value(value: Any) -> str:
    """A stored answer as an <input> value (datetime-local wants the T)."""
    text = shown_value(value)
    if len(text) == 16 and text[10] == " " and text[4] == "-":
        return text.replace(" ", "T")
    return text


def filesize(size: int) -> str:
    """Bytes for people: 812 B, 35.2 KB, 3.4 MB."""
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KB"
    return f"{size / 1024 / 1024:.1f} MB"


def _page_context(request: web.Request) -> dict[str, Any]:
    return {"me": request.get(ACTOR), "csrf_field": FIELD, "csrf_token": token_for(request),
            "path": request.path, "helpdesk_phone": request.app[SETTINGS].helpdesk_phone,
            "helpdesk_nav": request.get(HELPDESK_NAV, False)}


def setup_templates(app: web.Application) -> None:
    aiohttp_jinja2.setup(
        app, loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True,
        filters={"when": when, "shown": shown_value, "input_value": input_value, "state_label": STATE_LABELS.get,
                 "filesize": filesize},
    )


def render(request: web.Request, template: str, context: dict[str, Any], status: int = 200) -> web.Response:
    # aiohttp_jinja2's context processors keep state under a plain string request key
    # (a warning in aiohttp 3.14), so the shared context is merged here instead.
    response = aiohttp_jinja2.render_template(template, request, {**_page_context(request), **context},
                                              status=status)
    response.headers["Cache-Control"] = "no-store"  # pages show personal data
    return response


def see_other(location: str) -> web.HTTPSeeOther:
    """Post/redirect/get: a refreshed result page never repeats the command."""
    return web.HTTPSeeOther(location)


def page_number(request: web.Request) -> int:
    raw = request.query.get("page", "1")
    return int(raw) if raw.isdigit() and 0 < int(raw) <= 10_000 else 1


# Browsers drop tabs and newlines anywhere in a URL and read a backslash as a slash, so
# "/\t/evil.example" and "/\\evil.example" reach them as //evil.example: another site.
_UNSAFE_IN_NEXT = re.compile(r"[\x00-\x1f\x7f\\]")


def safe_next(value: Optional[str]) -> str:
    """Only a path on this site: no open redirect to //evil.example, http://… or their
    disguises (control characters, backslashes); anything else means the hall."""
    if not value or _UNSAFE_IN_NEXT.search(value) or not value.startswith("/") or value.startswith("//"):
        return "/"
    parts = urlsplit(value)
    return value if not parts.scheme and not parts.netloc else "/"
