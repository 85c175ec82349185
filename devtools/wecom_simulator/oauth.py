"""WeCom's OAuth2 网页授权 (sign-in of a page opened inside WeCom), as WeCom does it.

GET /connect/oauth2/authorize?appid=CORPID&redirect_uri=URL&response_type=code&scope=snsapi_base
    &state=STATE&agentid=AGENTID  → 302 to URL?code=CODE&state=STATE. The code names the member
    "using WeCom": ``_sim_userid=ID`` on the URL, else the one chosen with POST /_sim/oauth_user;
    with neither, a page asks who (each choice is the same URL plus ``_sim_userid``).
    ``_sim_userid=!openid`` plays someone who is not a member (getuserinfo answers an openid).
GET /cgi-bin/auth/getuserinfo?access_token=&code= → {userid} for a member, {openid} otherwise;
    a code works once and for 5 minutes, then 40029 invalid code.
"""
from __future__ import annotations

import html
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from aiohttp import web

from .api import SIMULATOR, wecom_api
from .core import Simulator
from .state import NON_MEMBER

SCOPES = ("snsapi_base", "snsapi_privateinfo")


def _refuse(errcode: int, hint: str) -> web.Response:
    """WeCom shows an error page in the WeCom client; the simulator answers 400 with the errcode."""
    return web.Response(status=400, text=f"企业微信网页授权失败:errcode {errcode}, {hint}", content_type="text/plain")


def with_query(url: str, **params: str) -> str:
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True) + list(params.items())
    return urlunsplit(parts._replace(query=urlencode(query)))


async def authorize(request: web.Request) -> web.Response:
    sim: Simulator = request.app[SIMULATOR]
    query = request.query
    if query.get("appid") != sim.config.corp_id:
        return _refuse(40013, "appid is not the corp's id")
    redirect_uri = query.get("redirect_uri", "")
    if urlsplit(redirect_uri).scheme not in ("http", "https") or not urlsplit(redirect_uri).netloc:
        return _refuse(50001, "redirect_uri is missing or not an http(s) URL")
    if query.get("response_type") != "code":
        return _refuse(40058, "response_type must be code")
    if query.get("scope") not in SCOPES:
        return _refuse(40058, f"scope must be one of {', '.join(SCOPES)}")
    agentid = query.get("agentid")
    if query.get("scope") == "snsapi_privateinfo" and not agentid:
        return _refuse(41011, "agentid is required for snsapi_privateinfo")
    if agentid and agentid != str(sim.config.agent_id):
        return _refuse(40056, "invalid agentid")
    who = query.get("_sim_userid") or sim.oauth.chosen
    if not who:
        return _choose(request, sim)
    if who == NON_MEMBER:
        userid = None
    else:
        member = sim.directory.member(who)
        if member is None:
            return _refuse(60111, f"no such member in the simulator: {who}")
        userid = member.userid
    params = {"code": sim.oauth.issue(userid)}
    if "state" in query:
        params["state"] = query["state"]
    raise web.HTTPFound(with_query(redirect_uri, **params))


def _choose(request: web.Request, sim: Simulator) -> web.Response:
    base = {k: v for k, v in request.query.items() if k != "_sim_userid"}
    choices = [(m.userid, f"{m.name}({m.userid})") for m in sim.directory.members.values()]
    choices.append((NON_MEMBER, "不是本企业成员"))
    items = "".join(
        f'<li><a href="{html.escape(request.path + "?" + urlencode({**base, "_sim_userid": userid}))}">'
        f"{html.escape(label)}</a></li>" for userid, label in choices)
    page = (f'<!doctype html><html lang="zh-CN"><meta charset="utf-8"><title>企业微信模拟器 · 网页授权</title>'
            f"<h1>以谁的身份在企业微信中打开?</h1><ul>{items}</ul></html>")
    return web.Response(text=page, content_type="text/html")


@wecom_api("auth/getuserinfo")
async def getuserinfo(sim: Simulator, request: web.Request) -> dict[str, Any]:
    return sim.oauth.redeem(request.query.get("code"))


def add_routes(app: web.Application) -> None:
    app.router.add_get("/connect/oauth2/authorize", authorize)
    app.router.add_get("/cgi-bin/auth/getuserinfo", getuserinfo)
