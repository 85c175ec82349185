"""WeCom's errcodes as the real API answers them: HTTP 200, a JSON body with errcode/errmsg."""
from __future__ import annotations

from typing import Any, Optional

from aiohttp import web

ERRMSG = {
    -1: "system busy",
    0: "ok",
    40001: "invalid credential",
    40007: "invalid media_id",
    40008: "invalid message type",
    40013: "invalid corpid",
    40014: "invalid access_token",
    40029: "invalid code",
    40056: "invalid agentid",
    40058: "invalid parameter",
    41001: "access_token missing",
    41002: "corpid missing",
    41004: "corpsecret missing",
    41006: "media_id missing",
    41008: "missing code",
    41011: "agentid missing",
    42001: "access_token expired",
    44004: "empty content",
    45002: "content size out of limit",
    45009: "api freq out of limit",
    45033: "api concurrent out of limit",
    47001: "data format error",
    50001: "redirect_uri not authorized",
    60111: "userid not found",
    60123: "invalid party id",
    81013: "user & party & tag all invalid",
}


class WeComApiError(Exception):
    def __init__(self, errcode: int, hint: Optional[str] = None):
        super().__init__(errcode, hint)
        self.errcode = errcode
        self.hint = hint


def error_body(errcode: int, hint: Optional[str] = None) -> dict[str, Any]:
    message = ERRMSG.get(errcode, "error")
    if hint:
        message = f"{message}, hint: [{hint}]"
    return {"errcode": errcode, "errmsg": message}


def ok(**fields: Any) -> web.Response:
    return web.json_response({"errcode": 0, "errmsg": "ok", **fields})


def fail(error: WeComApiError) -> web.Response:
    return web.json_response(error_body(error.errcode, error.hint))
