"""Playing the WeCom server towards an app's callback URL.

Plaintext messages/events are built as WeCom builds them, encrypted and signed with
wechatpy's WeChatCrypto (the app's Token, EncodingAESKey and CorpID) and POSTed as
``<xml><ToUserName/><AgentID/><Encrypt/></xml>`` with msg_signature/timestamp/nonce.
WeCom waits 5 s per try and retries, 3 tries in all, until it gets an HTTP 200; every
retry re-sends the very same request.
"""
from __future__ import annotations

import asyncio
import hashlib
import itertools
import secrets
import time
from dataclasses import dataclass, field
from typing import Any, Optional, Union

import aiohttp
import xmltodict
from wechatpy.enterprise.crypto import WeChatCrypto

from .config import SimulatorConfig

MAX_ANSWER_CHARS = 4096


def cdata(value: str) -> str:
    # "]]>" cannot appear inside a CDATA section: split it across two sections.
    return "<![CDATA[" + value.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def render_xml(fields: list[tuple[str, Union[str, int]]]) -> str:
    """``<xml>`` with the fields in order: strings as CDATA, integers bare (as WeCom does)."""
    parts = [f"<{name}>{value}</{name}>" if isinstance(value, int) else f"<{name}>{cdata(value)}</{name}>"
             for name, value in fields]
    return "<xml>" + "".join(parts) + "</xml>"


class MessageFactory:
    """Plaintext XML of what members send to the app."""

    def __init__(self, config: SimulatorConfig):
        self.config = config
        # MsgIds are 64-bit numbers, unique per corp; start somewhere random like a real corp.
        self._msgids = itertools.count(secrets.randbelow(10**15) + 7 * 10**18)

    def _head(self, userid: str, msgtype: str) -> list[tuple[str, Union[str, int]]]:
        return [("ToUserName", self.config.corp_id), ("FromUserName", userid),
                ("CreateTime", int(time.time())), ("MsgType", msgtype)]

    def text(self, userid: str, content: str) -> tuple[str, int]:
        msgid = next(self._msgids)
        return render_xml(self._head(userid, "text") + [
            ("Content", content), ("MsgId", msgid), ("AgentID", self.config.agent_id)]), msgid

    def media(self, userid: str, msgtype: str, media_id: str, filename: str) -> tuple[str, int]:
        """A picture (``image``: PicUrl + MediaId) or a file (``file``: MediaId + FileName) a member sent."""
        msgid = next(self._msgids)
        fields: list[tuple[str, Union[str, int]]] = (
            [("PicUrl", f"https://wework.qpic.cn/sim/{media_id}/0"), ("MediaId", media_id)] if msgtype == "image"
            else [("MediaId", media_id), ("FileName", filename)])
        return render_xml(self._head(userid, msgtype) + fields + [
            ("MsgId", msgid), ("AgentID", self.config.agent_id)]), msgid

    def card_click(self, userid: str, task_id: str, key: str, card_type: str, response_code: str) -> str:
        return render_xml(self._head(userid, "event") + [
            ("Event", "template_card_event"), ("EventKey", key), ("TaskId", task_id),
            ("CardType", card_type), ("ResponseCode", response_code), ("AgentID", self.config.agent_id)])

    def event(self, userid: str, event: str, extra: dict[str, str]) -> str:
        fields = self._head(userid, "event") + [("Event", event)]
        fields += [("EventKey", extra.get("EventKey", ""))] + [
            (name, value) for name, value in extra.items() if name != "EventKey"]
        return render_xml(fields + [("AgentID", self.config.agent_id)])


@dataclass
class Delivery:
    """One callback as WeCom would make it, with what each try got back."""
    kind: str
    userid: Optional[str]
    plaintext: Optional[str]
    at: float
    statuses: list[Union[int, str]] = field(default_factory=list)
    answer: Optional[str] = None     # body of the final HTTP 200, if any

    @property
    def delivered(self) -> bool:
        return bool(self.statuses) and self.statuses[-1] == 200

    def as_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "userid": self.userid, "plaintext": self.plaintext, "at": self.at,
                "attempts": len(self.statuses), "statuses": self.statuses, "delivered": self.delivered,
                "answer": self.answer}


class CallbackClient:
    def __init__(self, config: SimulatorConfig, session: aiohttp.ClientSession):
        self.config = config
        self.session = session

    def seal(self, plaintext: str, *, corp_id: Optional[str] = None,
             signature_ok: bool = True) -> tuple[dict[str, str], str]:
        """Query parameters and envelope body for ``plaintext``, encrypted for ``corp_id``."""
        nonce, timestamp = secrets.token_hex(8), str(int(time.time()))
        crypto = WeChatCrypto(self.config.token, self.config.aes_key, corp_id or self.config.corp_id)
        sealed = xmltodict.parse(crypto.encrypt_message(plaintext, nonce, timestamp))["xml"]
        signature = sealed["MsgSignature"]
        if not signature_ok:
            signature = hashlib.sha1(f"forged{signature}".encode()).hexdigest()
        body = render_xml([("ToUserName", corp_id or self.config.corp_id),
                           ("AgentID", str(self.config.agent_id)), ("Encrypt", sealed["Encrypt"])])
        return {"msg_signature": signature, "timestamp": timestamp, "nonce": nonce}, body

    async def post(self, delivery: Delivery, params: dict[str, str], body: Union[str, bytes],
                   url: Optional[str] = None, tries: Optional[int] = None) -> Delivery:
        """POST until an HTTP 200, each try cut off after the timeout, like WeCom."""
        url = url or self.config.callback_url
        if not url:
            raise ValueError("no callback URL configured (--callback-url)")
        timeout = aiohttp.ClientTimeout(total=self.config.callback_timeout)
        for _ in range(tries or self.config.callback_tries):
            status: Union[int, str]
            try:
                async with self.session.post(url, params=params, data=body, timeout=timeout,
                                             headers={"Content-Type": "text/xml; charset=utf-8"}) as resp:
                    status = resp.status
                    answer = (await resp.text(errors="replace"))[:MAX_ANSWER_CHARS]
            except asyncio.TimeoutError:
                status = "timeout"
            except aiohttp.ClientError as error:
                status = f"connection error: {type(error).__name__}"
            delivery.statuses.append(status)
            if status == 200:
                delivery.answer = answer
                break
        return delivery

    async def verify_url(self, url: Optional[str] = None, signature_ok: bool = True) -> dict[str, Any]:
        """WeCom's URL check: GET with an encrypted echostr; the app must answer the plaintext."""
        echo = secrets.token_hex(10)
        params, body = self.seal(echo, signature_ok=signature_ok)
        params["echostr"] = xmltodict.parse(body)["xml"]["Encrypt"]
        timeout = aiohttp.ClientTimeout(total=self.config.callback_timeout)
        try:
            async with self.session.get(url or self.config.callback_url, params=params, timeout=timeout) as resp:
                answer = await resp.text(errors="replace")
                return {"status": resp.status, "answer": answer[:MAX_ANSWER_CHARS],
                        "verified": resp.status == 200 and answer == echo}
        except (asyncio.TimeoutError, aiohttp.ClientError) as error:
            return {"status": type(error).__name__, "answer": None, "verified": False}
