"""One error shape for the whole API: ``{"error": {"code", "message", …}}``."""
from __future__ import annotations

import logging
from typing import Any, Optional

from aiohttp import web

from ..errors import AppError
from .jsonio import json_response
from .keys import SETTINGS

log = logging.getLogger(__name__)

_HTTP_ERRORS = {
    400: ("bad_request", "请求有误"),
    401: ("not_authenticated", "请先登录"),
    403: ("forbidden", "没有权限"),
    404: ("not_found", "没有找到该资源"),
    405: ("method_not_allowed", "不支持该请求方法"),
    413: ("body_too_large", "请求内容过大"),
    415: ("unsupported_media_type", "请使用 JSON 格式"),
}


def http_error(status: int, reason: str) -> tuple[str, str]:
    """The stable code and the Chinese message for an HTTP error status."""
    return _HTTP_ERRORS.get(status, ("http_error", reason))


def error_response(status: int, code: str, message: str, details: Optional[dict[str, Any]] = None) -> web.Response:
    body = {"error": {"code": code, "message": message, **({"details": details} if details else {})}}
    return json_response(body, status=status)


@web.middleware
async def error_middleware(request: web.Request, handler):
    try:
        return await handler(request)
    except AppError as error:
        return error_response(error.status, error.code, error.message, error.details)
    except web.HTTPException as error:
        if error.status < 400:
            raise
        code, message = http_error(error.status, error.reason)
        return error_response(error.status, code, message)
    except Exception:  # the user gets a clean message; the log gets the traceback
        log.exception("unhandled error on %s %s", request.method, request.path)
        phone = request.app[SETTINGS].helpdesk_phone
        return error_response(500, "internal_error", f"服务器内部错误,请稍后再试或致电 {phone}")
