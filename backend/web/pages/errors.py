"""Errors on pages become a page (in Chinese) instead of the API's JSON body; a script
that asks for JSON (``Accept: application/json``) still gets the API's error shape."""
from __future__ import annotations

import logging

from aiohttp import web

from ...errors import AppError, NotAuthenticated
from ..errors import error_response, http_error
from ..sessions import is_page, login_url
from ..keys import SETTINGS
from .rendering import render

log = logging.getLogger(__name__)
TITLES = {400: "请求有误", 401: "请先登录", 403: "无法执行该操作", 404: "没有找到", 409: "状态已变化",
          413: "内容过大", 422: "无法处理", 500: "服务器内部错误"}


def _wants_json(request: web.Request) -> bool:
    return "application/json" in request.headers.get("Accept", "")


def _error_page(request: web.Request, status: int, code: str, message: str) -> web.Response:
    if _wants_json(request):
        return error_response(status, code, message)
    context = {"status": status, "code": code, "title": TITLES.get(status, "出错了"), "message": message}
    return render(request, "error.html", context, status=status)


@web.middleware
async def page_error_middleware(request: web.Request, handler):
    if not is_page(request.path):
        return await handler(request)
    try:
        return await handler(request)
    except NotAuthenticated as error:
        if request.method in ("GET", "HEAD") and not _wants_json(request):
            raise web.HTTPSeeOther(login_url(request.path_qs)) from None
        return _error_page(request, error.status, error.code, error.message)
    except AppError as error:
        return _error_page(request, error.status, error.code, error.message)
    except web.HTTPException as error:
        if error.status < 400:
            raise
        code, message = http_error(error.status, error.reason)
        return _error_page(request, error.status, code, message)
    except Exception:  # the user gets a clean page; the log gets the traceback
        log.exception("unhandled error on %s %s", request.method, request.path)
        return _error_page(request, 500, "internal_error", f"服务器内部错误,请稍后再试或致电 {request.app[SETTINGS].helpdesk_phone}")
