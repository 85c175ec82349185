"""JSON in and out: Chinese kept readable, malformed bodies refused cleanly."""
from __future__ import annotations

import json
from functools import partial
from typing import Any

from aiohttp import web

from ..errors import InvalidInput

dumps = partial(json.dumps, ensure_ascii=False, separators=(",", ":"))


def json_response(body: Any, status: int = 200) -> web.Response:
    return web.json_response(body, status=status, dumps=dumps)


async def read_json(request: web.Request) -> dict[str, Any]:
    """The request's JSON object; 413 past the size limit, 400 for anything else wrong."""
    raw = await request.read()  # raises HTTPRequestEntityTooLarge past client_max_size
    if not raw:
        return {}
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise InvalidInput("bad_json", "请求内容不是有效的 JSON") from None
    if not isinstance(body, dict):
        raise InvalidInput("bad_json", "请求内容应为 JSON 对象")
    return body


def int_query(request: web.Request, name: str, default: int, low: int, high: int) -> int:
    raw = request.query.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise InvalidInput("bad_query", f"参数 {name} 应为整数") from None
    if not low <= value <= high:
        raise InvalidInput("bad_query", f"参数 {name} 应在 {low} 到 {high} 之间")
    return value
