"""JSON in and out: Chinese kept readable, malformed bodies refused cleanly.

Refused with 400 before any handler sees them: bodies that are not JSON, NaN / Infinity
(and numbers too large for a float, which would come back as Infinity: neither is valid
JSON on the way out), and nesting deeper than ``MAX_DEPTH``.
"""
from __future__ import annotations

import json
import math
from functools import partial
from typing import Any

from aiohttp import web

from ..errors import InvalidInput

dumps = partial(json.dumps, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
MAX_DEPTH = 16  # the deepest body the API takes is 3 levels (a form's multichoice list)


class NotFinite(ValueError):
    pass


def _finite(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise NotFinite(text)
    return number


def _constant(text: str) -> float:
    raise NotFinite(text)  # NaN, Infinity, -Infinity: JavaScript's, not JSON's


def depth(value: Any) -> int:
    """How deeply arrays and objects nest in ``value`` (a scalar: 0), without recursion."""
    deepest, level = 0, [(value, 1)]
    while level:
        item, at = level.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else None
        if children is None:
            continue
        deepest = max(deepest, at)
        level.extend((child, at + 1) for child in children)
    return deepest


def parse_json(raw: bytes) -> Any:
    """``raw`` as JSON, or InvalidInput: bad_json, number_not_finite or too_deep."""
    try:
        body = json.loads(raw, parse_float=_finite, parse_constant=_constant)
    except NotFinite:
        raise InvalidInput("number_not_finite", "数字应为有限的数值(不接受 NaN 或 Infinity)") from None
    except RecursionError:
        raise InvalidInput("too_deep", f"请求内容嵌套不能超过 {MAX_DEPTH} 层") from None
    except (ValueError, UnicodeDecodeError):
        raise InvalidInput("bad_json", "请求内容不是有效的 JSON") from None
    if depth(body) > MAX_DEPTH:
        raise InvalidInput("too_deep", f"请求内容嵌套不能超过 {MAX_DEPTH} 层")
    return body


def json_response(body: Any, status: int = 200) -> web.Response:
    return web.json_response(body, status=status, dumps=dumps)


async def read_json(request: web.Request) -> dict[str, Any]:
    """The request's JSON object; 413 past the size limit, 400 for anything else wrong."""
    raw = await request.read()  # raises HTTPRequestEntityTooLarge past client_max_size
    if not raw:
        return {}
    body = parse_json(raw)
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
