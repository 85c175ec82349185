"""WeCom callbacks: check the signature, decrypt, and classify what the user did.

Everything a request carries is checked before anything is trusted: the signature over
the encrypted payload (with the app's Token), the timestamp (a recorded callback cannot
be replayed later), the receiver id inside the decrypted payload (our CorpID), and the
shape of the plaintext XML. Failures raise ``Rejected`` with the HTTP status to answer.
No I/O here.
"""
from __future__ import annotations

import re
import time
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Optional

import xmltodict
from wechatpy.enterprise.crypto import WeChatCrypto
from wechatpy.enterprise.exceptions import InvalidCorpIdException
from wechatpy.exceptions import InvalidSignatureException

# A callback older (or newer) than this is refused; the dedupe marks live longer than this.
REPLAY_WINDOW_SECONDS = 30 * 60
MAX_BODY_BYTES = 64 * 1024     # a real callback envelope is a few KB
USERID = re.compile(r"^[A-Za-z0-9_.@\-]{1,64}$")  # WeCom userids; the sender is wecom:<userid>
SENDER_PREFIX = "wecom:"
MEDIA_TYPES = frozenset({"image", "voice", "video", "file", "location", "link"})


class Rejected(Exception):
    def __init__(self, status: int, reason: str):
        super().__init__(reason)
        self.status, self.reason = status, reason


@dataclass(frozen=True)
class Inbound:
    """One user action from a callback. ``kind``: text, click, enter, media or ignored."""

    kind: str
    userid: str
    dedupe_key: str
    text: str = ""           # the typed text, or the clicked button's key (a Rasa payload)
    card_task_id: str = ""   # for clicks: the card's task_id …
    response_code: str = ""  # … and the code that lets us update it once
    media_type: str = ""     # for media: image, file, voice …
    media_id: str = ""       # … its MediaId (media/get), for a picture or a file
    file_name: str = ""      # … and a file's name

    @property
    def sender_id(self) -> str:
        return SENDER_PREFIX + self.userid


class CallbackCrypto:
    def __init__(self, token: str, aes_key: str, corp_id: str, clock: Callable[[], float] = time.time):
        self._crypto = WeChatCrypto(token, aes_key, corp_id)
        self._clock = clock

    def verify_url(self, query: Mapping[str, str]) -> str:
        """URL verification (GET): the decrypted echostr to answer with."""
        echostr = query.get("echostr") or ""
        if not echostr:
            raise Rejected(400, "echostr missing")
        signature, timestamp, nonce = self._signed(query)
        return self._unwrap(lambda: self._crypto.check_signature(signature, timestamp, nonce, echostr), timestamp)

    def open(self, query: Mapping[str, str], body: bytes) -> Inbound:
        """A message/event callback (POST) → what the user did."""
        envelope = parse_xml(body)
        if not isinstance(envelope.get("Encrypt"), str) or not envelope["Encrypt"]:
            raise Rejected(400, "no Encrypt element")
        signature, timestamp, nonce = self._signed(query)
        plaintext = self._unwrap(lambda: self._crypto.decrypt_message(envelope, signature, timestamp, nonce), timestamp)
        return classify(parse_xml(plaintext.encode()))

    def _signed(self, query: Mapping[str, str]) -> tuple[str, str, str]:
        signature, timestamp, nonce = (query.get(k) or "" for k in ("msg_signature", "timestamp", "nonce"))
        if not (signature and timestamp and nonce):
            raise Rejected(403, "signature parameters missing")
        return signature, timestamp, nonce

    def _unwrap(self, check_and_decrypt: Callable[[], str], timestamp: str) -> str:
        try:
            plaintext = check_and_decrypt()
        except InvalidSignatureException:
            raise Rejected(403, "bad signature") from None
        except InvalidCorpIdException:
            raise Rejected(403, "payload is for another corp") from None
        except Exception as error:  # noqa: BLE001 — any decoding failure of a signed payload is a bad body
            raise Rejected(400, f"undecryptable payload ({error.__class__.__name__})") from None
        # The timestamp is signed: once the signature holds, it tells when WeCom sent this.
        if not timestamp.isdigit() or abs(self._clock() - int(timestamp)) > REPLAY_WINDOW_SECONDS:
            raise Rejected(403, "timestamp outside the replay window")
        return plaintext


def parse_xml(body: bytes) -> dict[str, Any]:
    """The children of a ``<xml>`` root as a dict; entities are never expanded."""
    try:
        document = xmltodict.parse(body, disable_entities=True)
    except Exception as error:  # noqa: BLE001 — expat raises several types for bad XML
        raise Rejected(400, f"malformed XML ({error.__class__.__name__})") from None
    root = document.get("xml") if isinstance(document, dict) else None
    if not isinstance(root, dict):
        raise Rejected(400, "XML root must be <xml> with elements")
    return root


def classify(message: dict[str, Any]) -> Inbound:
    userid, created = _text(message, "FromUserName"), _text(message, "CreateTime")
    msgtype = _text(message, "MsgType").lower()
    if not USERID.match(userid) or not created.isdigit() or not msgtype:
        raise Rejected(400, "FromUserName, CreateTime or MsgType missing or invalid")
    if msgtype == "event":
        return _event(message, userid, created)
    msgid = _text(message, "MsgId")
    if not msgid:
        raise Rejected(400, "MsgId missing")
    key = f"msg:{msgid}"
    if msgtype == "text":
        return Inbound("text", userid, key, text=_text(message, "Content"))
    if msgtype in MEDIA_TYPES:
        return Inbound("media", userid, key, media_type=msgtype, media_id=_text(message, "MediaId"),
                       file_name=_text(message, "FileName"))
    return Inbound("ignored", userid, key)


def _event(message: dict[str, Any], userid: str, created: str) -> Inbound:
    event = _text(message, "Event").lower()
    key = _text(message, "EventKey")
    dedupe = f"evt:{userid}:{created}:{event}:{key}"
    if event == "template_card_event":
        if not key:
            raise Rejected(400, "template_card_event without EventKey")
        return Inbound("click", userid, dedupe, text=key, card_task_id=_text(message, "TaskId"),
                       response_code=_text(message, "ResponseCode"))
    if event == "enter_agent":
        return Inbound("enter", userid, dedupe)
    return Inbound("ignored", userid, dedupe)


def _text(message: dict[str, Any], name: str) -> str:
    value: Optional[Any] = message.get(name)
    return value.strip() if isinstance(value, str) else ""
