"""JSON in and out: Chinese kept readable, malformed bodies refused cleanly.

Refused with 400 before any handler sees them: bodies that are not JSON, NaN / Infinity
(and numbers too large for a float, which would come back as Infinity: neither is valid
JSON on the way out), nesting deeper than ``MAX_DEPTH``, and text no database keeps (NUL,
a lone surrogate such as ``"\ud800"``). Query and path values are checked the same way.
"""
from __future__ import annotations

import json
import math
from functools import partial
from typing import Any, Iterator

from aiohttp import web

from ..db.models import MAX_ID  # noqa: F401 - the web's bound on ids, where the columns are defined
from ..errors import InvalidInput, NotFound

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




def storable(text: str) -> bool:
    """Text a database can keep: no NUL, no lone surrogate (a ``\ud800`` escape, undecodable bytes)."""
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def nodes(value: Any) -> Iterator[tuple[Any, int]]:
    """Every value inside ``value`` (object keys included) with its depth, without recursion."""
    pending = [(value, 0)]
    while pending:
        item, at = pending.pop()
        yield item, at
        if isinstance(item, dict):
            pending.extend((key, at + 1) for key in item)
            pending.extend((child, at + 1) for child in item.values())
        elif isinstance(item, list):
            pending.extend((child, at + 1) for child in item)


def depth(value: Any) -> int:
    """How deeply arrays and objects nest in ``value`` (a scalar: 0)."""
    return max((at + 1 for item, at in nodes(value) if isinstance(item, (dict, list))), default=0)


def check_body(body: Any) -> None:
    if depth(body) > MAX_DEPTH:
        raise InvalidInput("too_deep", f"请求内容嵌套不能超过 {MAX_DEPTH} 层")
    if not all(storable(item) for item, _ in nodes(body) if isinstance(item, str)):
        raise InvalidInput("bad_text", "请求内容含有无法保存的字符(NUL 或不成对的代理项)")


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
    check_body(body)
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


def text_query(request: web.Request, name: str, max_chars: int) -> str:
    """A free-text query parameter, stripped; 400 bad_query when too long or not storable."""
    value = request.query.get(name, "").strip()
    if len(value) > max_chars:
        raise InvalidInput("bad_query", f"参数 {name} 不能超过 {max_chars} 个字")
    if not storable(value):
        raise InvalidInput("bad_query", f"参数 {name} 含有无法识别的字符")
    return value


def path_id(request: web.Request, code: str, message: str) -> int:
    """The path's ``{id}`` (the route allows 1-18 digits); past MAX_ID nothing has it: 404."""
    value = int(request.match_info["id"])
    if not 0 < value <= MAX_ID:
        raise NotFound(code, f"{message} {value}")
    return value


def path_text(request: web.Request, name: str, code: str, message: str) -> str:
    """A text path parameter; one no database could hold names nothing: 404."""
    value = request.match_info[name]
    if not storable(value):
        raise NotFound(code, message)
    return value
