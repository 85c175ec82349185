"""An async client for the WeCom server API (gettoken, message/send, contacts, OAuth2 sign-in).

One ``WeComClient`` per app (corp + secret) and process: it caches the access_token
until shortly before it expires, lets only one refresh run at a time however many
calls need a token, fetches a new token once when WeCom says the old one is invalid
or expired (40014 / 42001, it can be revoked early), and retries with backoff when
WeCom is busy (45009 / 45033 / -1). Any other errcode is final: ``WeComError``.
"""
from __future__ import annotations

import asyncio
import logging
import random
import re
import time
from dataclasses import dataclass
from typing import Any, Awaitable, Callable, Optional
from urllib.parse import unquote, urlencode

import aiohttp

logger = logging.getLogger(__name__)

TOKEN_INVALID = frozenset({40014, 42001})
BUSY = frozenset({45009, 45033, -1})
# Renew this long before WeCom's stated expiry, so a token never dies mid-call.
EXPIRY_MARGIN_SECONDS = 300
REQUEST_TIMEOUT = aiohttp.ClientTimeout(total=10, connect=3)
MEDIA_TIMEOUT = aiohttp.ClientTimeout(total=60, connect=3)
MAX_MEDIA_BYTES = 20 * 1024 * 1024  # WeCom's own limit for a file message
_FILENAME = re.compile(r"""filename\*?=(?:UTF-8'')?"?([^";]+)"?""", re.IGNORECASE)


@dataclass(frozen=True)
class Media:
    """A temporary media file (media/get): its bytes, type and file name as WeCom gives them."""

    data: bytes
    content_type: str
    filename: str


async def _media(response: aiohttp.ClientResponse, disposition: str) -> Media:
    data = await response.content.read(MAX_MEDIA_BYTES + 1)
    if len(data) > MAX_MEDIA_BYTES:
        raise WeComError(-2, f"media larger than {MAX_MEDIA_BYTES} bytes")
    found = _FILENAME.search(disposition)
    name = unquote(found.group(1)).strip() if found else ""
    return Media(data, response.content_type or "application/octet-stream", name or "media")


def authorize_url(authorize_base: str, corp_id: str, agent_id: int, redirect_uri: str, state: str) -> str:
    """WeCom's OAuth2 authorize URL (scope snsapi_base: the userid, silently): inside WeCom the
    browser goes there and WeCom sends it back to ``redirect_uri`` with ``code`` and ``state``."""
    query = urlencode({"appid": corp_id, "redirect_uri": redirect_uri, "response_type": "code",
                       "scope": "snsapi_base", "state": state, "agentid": agent_id})
    return f"{authorize_base}?{query}#wechat_redirect"


class WeComError(Exception):
    """WeCom answered with an errcode we do not retry (or retried without success)."""

    def __init__(self, errcode: int, errmsg: str):
        super().__init__(f"WeCom errcode {errcode}: {errmsg}")
        self.errcode, self.errmsg = errcode, errmsg


class WeComUnavailable(WeComError):
    """WeCom could not be reached or did not answer with JSON."""

    def __init__(self, detail: str):
        super().__init__(-2, detail)


class WeComClient:
    def __init__(self, api_base: str, corp_id: str, secret: str, session: aiohttp.ClientSession, *,
                 agent_id: Optional[int] = None, attempts: int = 4, backoff_seconds: float = 0.5,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep):
        self.api_base = api_base if api_base.endswith("/") else api_base + "/"
        self.corp_id, self.secret, self.agent_id = corp_id, secret, agent_id
        self.session = session
        self.attempts, self.backoff_seconds, self._sleep = attempts, backoff_seconds, sleep
        self._token: Optional[str] = None
        self._token_expires_at = 0.0
        self._refresh_lock = asyncio.Lock()
        self.token_fetches = 0  # how many times gettoken was called (observability, tests)

    # ------------------------------------------------------------------ tokens
    async def access_token(self) -> str:
        if self._token_is_fresh():
            return self._token  # type: ignore[return-value]
        async with self._refresh_lock:
            if not self._token_is_fresh():  # another caller may have refreshed while we waited
                await self._fetch_token()
            return self._token  # type: ignore[return-value]

    def _token_is_fresh(self) -> bool:
        return self._token is not None and time.monotonic() < self._token_expires_at

    async def _fetch_token(self) -> None:
        answer = await self._request("GET", "gettoken", {"corpid": self.corp_id, "corpsecret": self.secret}, None)
        self.token_fetches += 1
        expires_in = int(answer.get("expires_in", 7200))
        self._token = answer["access_token"]
        self._token_expires_at = time.monotonic() + max(expires_in - min(EXPIRY_MARGIN_SECONDS, expires_in // 10), 1)

    async def _renew_token(self, stale: str) -> None:
        async with self._refresh_lock:
            if self._token == stale:  # only the first caller that saw it fail fetches a new one
                self._token = None
                await self._fetch_token()

    # ------------------------------------------------------------------ calls
    async def call(self, method: str, path: str, params: Optional[dict[str, Any]] = None,
                   json: Optional[dict[str, Any]] = None, *, media: bool = False) -> dict[str, Any]:
        """Call an API path (``message/send``) with the app's access_token; the answer's JSON
        (``media``: a file answer is ``{"media": Media}``, an error is still JSON)."""
        token = await self.access_token()
        try:
            return await self._request(method, path, {**(params or {}), "access_token": token}, json, media)
        except WeComError as error:
            if error.errcode not in TOKEN_INVALID:
                raise
            logger.info("WeCom access_token rejected (%s), fetching a new one", error.errcode)
        await self._renew_token(token)
        return await self._request(method, path, {**(params or {}), "access_token": await self.access_token()},
                                   json, media)

    async def _request(self, method: str, path: str, params: dict[str, Any],
                       json: Optional[dict[str, Any]], media: bool = False) -> dict[str, Any]:
        for attempt in range(1, self.attempts + 1):
            try:
                answer = await self._once(method, path, params, json, media)
            except WeComUnavailable as error:
                # A lost POST may have been delivered: only GETs are repeated after a network error.
                if method != "GET" or attempt == self.attempts:
                    raise
                logger.warning("WeCom %s unreachable (%s), retrying", path, error.errmsg)
            else:
                errcode = int(answer.get("errcode", 0) or 0)
                if errcode == 0:
                    return answer
                if errcode not in BUSY or attempt == self.attempts:
                    raise WeComError(errcode, str(answer.get("errmsg", "")))
                logger.warning("WeCom %s busy (errcode %s), backing off", path, errcode)
            await self._sleep(self.backoff_seconds * 2 ** (attempt - 1) * (1 + random.random() / 2))
        raise AssertionError("unreachable")

    async def _once(self, method: str, path: str, params: dict[str, Any],
                    json: Optional[dict[str, Any]], media: bool = False) -> dict[str, Any]:
        try:
            async with self.session.request(method, self.api_base + path, params=params, json=json,
                                            timeout=MEDIA_TIMEOUT if media else REQUEST_TIMEOUT) as response:
                if response.status >= 500:
                    raise WeComUnavailable(f"HTTP {response.status} from {path}")
                disposition = response.headers.get("Content-Disposition", "")
                if media and disposition:  # a file; an error would be JSON without one
                    return {"errcode": 0, "media": await _media(response, disposition)}
                answer = await response.json(content_type=None)
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as error:
            raise WeComUnavailable(f"{path}: {error.__class__.__name__} {error}") from error
        if not isinstance(answer, dict):
            raise WeComUnavailable(f"{path}: answer is not a JSON object")
        return answer

    # ------------------------------------------------------------------ helpers
    async def send_message(self, touser: str, msg: dict[str, Any]) -> dict[str, Any]:
        """message/send: ``msg`` holds msgtype and its content (``{"msgtype": "text", "text": {...}}``)."""
        body = {"touser": touser, **msg}
        body.setdefault("agentid", self._agent_id())
        return await self.call("POST", "message/send", json=body)

    async def update_template_card(self, userids: list[str], response_code: str, replace_name: str) -> dict[str, Any]:
        """Replace a clicked button_interaction card's buttons with ``replace_name`` (the outcome)."""
        return await self.call("POST", "message/update_template_card", json={
            "userids": userids, "agentid": self._agent_id(), "response_code": response_code,
            "button": {"replace_name": replace_name}})

    async def department_list(self, department_id: Optional[int] = None) -> list[dict[str, Any]]:
        params = {"id": department_id} if department_id is not None else None
        return (await self.call("GET", "department/list", params))["department"]

    async def user_list(self, department_id: int) -> list[dict[str, Any]]:
        return (await self.call("GET", "user/list", {"department_id": department_id}))["userlist"]

    async def user_get(self, userid: str) -> dict[str, Any]:
        return await self.call("GET", "user/get", {"userid": userid})

    async def getuserinfo(self, code: str) -> dict[str, Any]:
        """auth/getuserinfo: who the OAuth2 ``code`` (网页授权, single use, 5 minutes) was issued to —
        ``userid`` for a member of the corp, ``openid`` (no ``userid``) for anyone else.
        A bad, used or expired code is ``WeComError`` 40029."""
        return await self.call("GET", "auth/getuserinfo", {"code": code})

    async def get_media(self, media_id: str) -> Media:
        """media/get: a picture or file a member sent (its MediaId; WeCom keeps it 3 days).
        An unknown or expired id is ``WeComError`` 40007."""
        return (await self.call("GET", "media/get", {"media_id": media_id}, media=True))["media"]

    def _agent_id(self) -> int:
        if self.agent_id is None:
            raise ValueError("WeComClient needs agent_id to send messages")
        return self.agent_id
