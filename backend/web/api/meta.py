"""GET /health and GET /openapi.json (the API contract, kept in openapi.yaml)."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from aiohttp import web
from sqlalchemy import text

from ..jsonio import json_response
from ..keys import DATABASE

SPEC = Path(__file__).resolve().parent.parent / "openapi.yaml"


@lru_cache(maxsize=1)
def openapi_spec() -> dict[str, Any]:
    return yaml.safe_load(SPEC.read_text(encoding="utf-8"))


async def health(request: web.Request) -> web.Response:
    async with request.app[DATABASE].read() as session:
        await session.execute(text("SELECT 1"))
    return json_response({"status": "ok"})


async def openapi(request: web.Request) -> web.Response:
    return json_response(openapi_spec())
