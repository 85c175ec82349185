"""The control API under /_sim/ (JSON): drive the simulated WeCom server from tests and the page.

GET  /_sim/messages?touser=ID&after=N  → {"messages": [{id, msgid, touser, msgtype, body, at, dropped,
                                          card_update}]}: every message/send, one entry per recipient
GET  /_sim/deliveries?userid=ID        → {"deliveries": [...]}: callbacks played, with their tries
GET  /_sim/users                       → {"users": [{userid, name, department}]}
GET  /_sim/stats                       → gettoken calls, tokens issued, messages, dropped, deliveries
POST /_sim/say     {"userid", "text"}  → {"msgid", "attempts", "statuses", "delivered"}
POST /_sim/media   {"userid", "kind": "image"|"file", "filename", "content_base64", "content_type"}
                   → {"media_id", "msgid", "attempts", …}: a member sends a picture or file (media/get serves it)
POST /_sim/click   {"userid", "task_id", "key"} → {"response_code", "attempts", "statuses", "delivered"}
POST /_sim/event   {"userid", "event", ...XML fields such as "EventKey"} → {"attempts", "statuses", ...}
POST /_sim/deliver {"xml": plaintext | "body": raw, "signature_ok": true, "corp_id": null, "tries": null}
POST /_sim/verify  {"signature_ok": true} → WeCom's URL check (GET with echostr)
POST /_sim/expire_tokens               → {"revoked": n}: the next use of a token gets 42001
POST /_sim/faults  {"errcode": 45009, "count": 1, "path": "message/send"|null}; DELETE clears them
                   {"http_status": 502, "count": 1, "path": …}: an HTTP error instead of an errcode
                   {"delay": 12, "count": 1, "path": …}: carried out, answered 12 s late
POST /_sim/reset                       → forget messages, cards, deliveries, rate counts, faults
POST /_sim/oauth_user {"userid": ID | "!openid" | null} → who is "using WeCom" when a page asks
                   WeCom's OAuth2 authorize who it is (oauth.py); null: the authorize page asks
"""
from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from aiohttp import web

from .api import SIMULATOR
from .core import ControlError
from .state import NON_MEMBER


async def _payload(request: web.Request) -> dict[str, Any]:
    try:
        payload = json.loads(await request.text() or "{}")
    except (ValueError, UnicodeDecodeError):
        raise ControlError(400, "body must be JSON") from None
    if not isinstance(payload, dict):
        raise ControlError(400, "body must be a JSON object")
    return payload


@web.middleware
async def control_errors(request: web.Request, handler: Any) -> web.StreamResponse:
    try:
        return await handler(request)
    except ControlError as error:
        return web.json_response({"error": str(error)}, status=error.status)
    except ValueError as error:   # e.g. no callback URL configured
        if not request.path.startswith("/_sim/"):
            raise
        return web.json_response({"error": str(error)}, status=409)


def _int_query(request: web.Request, name: str) -> int:
    try:
        return int(request.query.get(name, "0"))
    except ValueError:
        raise ControlError(400, f"{name} must be an integer") from None


async def messages(request: web.Request) -> web.Response:
    sim = request.app[SIMULATOR]
    found = sim.log.for_user(request.query.get("touser"), _int_query(request, "after"))
    return web.json_response({"messages": [m.as_json(sim.cards) for m in found]})


async def deliveries(request: web.Request) -> web.Response:
    sim = request.app[SIMULATOR]
    userid = request.query.get("userid")
    found = [d for d in sim.deliveries if userid is None or d.userid == userid]
    return web.json_response({"deliveries": [d.as_json() for d in found]})


async def users(request: web.Request) -> web.Response:
    directory = request.app[SIMULATOR].directory
    return web.json_response({"users": [
        {"userid": m.userid, "name": m.name, "department": directory.departments[m.department].name}
        for m in directory.members.values()]})


async def stats(request: web.Request) -> web.Response:
    return web.json_response(request.app[SIMULATOR].stats())


async def say(request: web.Request) -> web.Response:
    body = await _payload(request)
    msgid, delivery = await request.app[SIMULATOR].say(body.get("userid"), body.get("text"))
    return web.json_response({"msgid": msgid, **delivery.as_json()})


async def media(request: web.Request) -> web.Response:
    body = await _payload(request)
    try:
        data = base64.b64decode(str(body.get("content_base64") or ""), validate=True)
    except (binascii.Error, ValueError):
        raise ControlError(400, "content_base64 must be base64") from None
    media_id, msgid, delivery = await request.app[SIMULATOR].send_media(
        body.get("userid"), body.get("kind"), body.get("filename"), data, body.get("content_type"))
    return web.json_response({"media_id": media_id, "msgid": msgid, **delivery.as_json()})


async def click(request: web.Request) -> web.Response:
    body = await _payload(request)
    code, delivery = await request.app[SIMULATOR].click(body.get("userid"), body.get("task_id"), body.get("key"))
    return web.json_response({"response_code": code, **delivery.as_json()})


async def event(request: web.Request) -> web.Response:
    body = await _payload(request)
    userid, name = body.pop("userid", None), body.pop("event", None)
    delivery = await request.app[SIMULATOR].event(userid, name, body)
    return web.json_response(delivery.as_json())


async def deliver(request: web.Request) -> web.Response:
    body = await _payload(request)
    xml, raw = body.get("xml"), body.get("body")
    if (xml is None) == (raw is None) or not isinstance(xml or raw, str):
        raise ControlError(400, "give exactly one of xml (plaintext to encrypt) or body (raw), as a string")
    tries = body.get("tries")
    if tries is not None and (not isinstance(tries, int) or tries < 1):
        raise ControlError(400, "tries must be a positive integer")
    delivery = await request.app[SIMULATOR].deliver(
        xml, raw, signature_ok=body.get("signature_ok", True) is not False,
        corp_id=body.get("corp_id"), tries=tries)
    return web.json_response(delivery.as_json())


async def verify(request: web.Request) -> web.Response:
    body = await _payload(request)
    sim = request.app[SIMULATOR]
    if not sim.config.callback_url:
        raise ControlError(409, "no callback URL configured (--callback-url)")
    assert sim.callback is not None
    return web.json_response(await sim.callback.verify_url(signature_ok=body.get("signature_ok", True) is not False))


async def expire_tokens(request: web.Request) -> web.Response:
    return web.json_response({"revoked": request.app[SIMULATOR].tokens.revoke_all()})


async def add_fault(request: web.Request) -> web.Response:
    body = await _payload(request)
    http_status, delay = body.get("http_status", 200), body.get("delay", 0)
    # An HTTP error or a late answer carries no errcode of its own; -1 is only recorded.
    errcode = body.get("errcode", -1 if http_status != 200 or delay else None)
    count, path = body.get("count", 1), body.get("path")
    if not isinstance(errcode, int) or not isinstance(count, int) or count < 1:
        raise ControlError(400, "errcode (integer) and count (positive integer) required")
    if not isinstance(http_status, int) or not 200 <= http_status <= 599:
        raise ControlError(400, "http_status must be an HTTP status such as 502")
    if not isinstance(delay, (int, float)) or isinstance(delay, bool) or not 0 <= delay <= 120:
        raise ControlError(400, "delay must be a number of seconds from 0 to 120")
    if path is not None and not isinstance(path, str):
        raise ControlError(400, "path must be a string such as message/send")
    request.app[SIMULATOR].faults.add(errcode, count, path, http_status, float(delay))
    return web.json_response({"errcode": errcode, "count": count, "path": path, "http_status": http_status,
                              "delay": delay})


async def clear_faults(request: web.Request) -> web.Response:
    request.app[SIMULATOR].faults.clear()
    return web.json_response({"cleared": True})


async def reset(request: web.Request) -> web.Response:
    request.app[SIMULATOR].reset()
    return web.json_response({"reset": True})


async def oauth_user(request: web.Request) -> web.Response:
    body = await _payload(request)
    sim = request.app[SIMULATOR]
    userid = body.get("userid")
    if userid is not None and userid != NON_MEMBER:
        userid = sim._member(userid)
    sim.oauth.chosen = userid
    return web.json_response({"userid": userid})


def add_routes(app: web.Application) -> None:
    app.router.add_get("/_sim/messages", messages)
    app.router.add_get("/_sim/deliveries", deliveries)
    app.router.add_get("/_sim/users", users)
    app.router.add_get("/_sim/stats", stats)
    app.router.add_post("/_sim/say", say)
    app.router.add_post("/_sim/media", media)
    app.router.add_post("/_sim/click", click)
    app.router.add_post("/_sim/event", event)
    app.router.add_post("/_sim/deliver", deliver)
    app.router.add_post("/_sim/verify", verify)
    app.router.add_post("/_sim/expire_tokens", expire_tokens)
    app.router.add_post("/_sim/faults", add_fault)
    app.router.add_delete("/_sim/faults", clear_faults)
    app.router.add_post("/_sim/reset", reset)
    app.router.add_post("/_sim/oauth_user", oauth_user)
