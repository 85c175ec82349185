"""What the simulated WeCom server remembers: sent messages, cards, response codes, faults,
OAuth2 codes."""
from __future__ import annotations

import itertools
import secrets
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

from .errors import WeComApiError

RESPONSE_CODE_TTL = 72 * 3600   # a response_code is usable once, within 72 h
OAUTH_CODE_TTL = 300            # an OAuth2 code (网页授权) is usable once, within 5 minutes
NON_MEMBER = "!openid"          # "using WeCom" as someone outside the corp (getuserinfo: an openid)


@dataclass
class SentMessage:
    id: int
    msgid: str
    touser: str
    msgtype: str
    body: dict[str, Any]
    at: float
    dropped: bool

    def as_json(self, cards: "CardBook") -> dict[str, Any]:
        data = {"id": self.id, "msgid": self.msgid, "touser": self.touser, "msgtype": self.msgtype,
                "body": self.body, "at": self.at, "dropped": self.dropped}
        if self.msgtype == "template_card" and self.body.get("task_id"):
            card = cards.get(self.body["task_id"])
            data["card_update"] = card.updates.get(self.touser) if card else None
        return data


class SentLog:
    """Every message/send, one entry per recipient, dropped ones included and marked."""

    def __init__(self) -> None:
        self.messages: list[SentMessage] = []
        self._ids = itertools.count(1)

    def record(self, **fields: Any) -> SentMessage:
        message = SentMessage(id=next(self._ids), **fields)
        self.messages.append(message)
        return message

    def for_user(self, userid: Optional[str], after: int = 0) -> list[SentMessage]:
        return [m for m in self.messages if m.id > after and (userid is None or m.touser == userid)]


@dataclass
class Card:
    task_id: str
    card: dict[str, Any]
    recipients: set[str] = field(default_factory=set)
    updates: dict[str, dict[str, Any]] = field(default_factory=dict)   # userid → update body

    def keys(self) -> list[str]:
        return [b["key"] for b in self.card.get("button_list") or []]


@dataclass
class ResponseCode:
    task_id: str
    userid: Optional[str]     # the member who clicked; None for the code message/send returned
    issued_at: float
    used: bool = False


class CardBook:
    """Template cards by task_id (unique per app) and the response codes issued for them."""

    def __init__(self, clock: Callable[[], float]):
        self.clock = clock
        self.cards: dict[str, Card] = {}
        self.codes: dict[str, ResponseCode] = {}

    def get(self, task_id: str) -> Optional[Card]:
        return self.cards.get(task_id)

    def ensure_new(self, task_id: str) -> None:
        if task_id in self.cards:
            raise WeComApiError(40058, f"task_id {task_id} already used by this app")

    def add(self, task_id: str, card: dict[str, Any], recipients: set[str]) -> Card:
        self.cards[task_id] = Card(task_id, card, recipients)
        return self.cards[task_id]

    def issue_code(self, task_id: str, userid: Optional[str]) -> str:
        code = secrets.token_urlsafe(32)
        self.codes[code] = ResponseCode(task_id, userid, self.clock())
        return code

    def redeem(self, code: Any) -> ResponseCode:
        """Use a response_code up; unknown, used or expired codes are refused."""
        entry = self.codes.get(code) if isinstance(code, str) else None
        if entry is None:
            raise WeComApiError(40058, "invalid response_code")
        if entry.used:
            raise WeComApiError(40058, "response_code already used")
        if self.clock() - entry.issued_at > RESPONSE_CODE_TTL:
            raise WeComApiError(40058, "response_code expired")
        entry.used = True
        return entry


@dataclass
class Fault:
    errcode: int
    remaining: int
    path: Optional[str]
    http_status: int = 200  # not 200: the gateway in front of WeCom failed (502 …), no JSON body
    delay: float = 0.0      # the call is carried out, but answered this late (a client times out first)


class FaultPlan:
    """Test hook: the next N API calls (optionally of one path) answer a given errcode, or an
    HTTP error status such as 502 (WeCom's front end failing before the API answers), or are
    carried out but answered ``delay`` seconds late (the answer of a delivered send lost)."""

    def __init__(self) -> None:
        self.faults: list[Fault] = []

    def add(self, errcode: int, count: int, path: Optional[str], http_status: int = 200, delay: float = 0.0) -> None:
        self.faults.append(Fault(errcode, count, path, http_status, delay))

    def take(self, path: str) -> Optional[Fault]:
        for fault in self.faults:
            if fault.remaining > 0 and fault.path in (None, path):
                fault.remaining -= 1
                return fault
        return None

    def clear(self) -> None:
        self.faults.clear()


@dataclass
class _Code:
    userid: Optional[str]   # None: not a member of the corp
    openid: str
    expires_at: float
    used: bool = False


class OAuthCodes:
    def __init__(self, clock: Callable[[], float]):
        self.clock = clock
        self._codes: dict[str, _Code] = {}
        self.chosen: Optional[str] = None   # who is "using WeCom" when the URL does not say

    def issue(self, userid: Optional[str]) -> str:
        now = self.clock()
        self._codes = {k: c for k, c in self._codes.items() if c.expires_at > now}
        code = secrets.token_urlsafe(24)
        self._codes[code] = _Code(userid, "o" + secrets.token_hex(14), now + OAUTH_CODE_TTL)
        return code

    def redeem(self, code: Optional[str]) -> dict[str, Any]:
        if not code:
            raise WeComApiError(41008)
        found = self._codes.get(code)
        if found is None or found.used or found.expires_at <= self.clock():
            raise WeComApiError(40029)
        found.used = True
        return {"userid": found.userid, "user_ticket": secrets.token_urlsafe(32)} if found.userid \
            else {"openid": found.openid}


MEDIA_TTL = 3 * 24 * 3600  # WeCom keeps a temporary media file 3 days


@dataclass
class MediaFile:
    data: bytes
    content_type: str
    filename: str
    created_at: float


class MediaStore:
    """Temporary media (media/get): what members sent as pictures and files, by MediaId."""

    def __init__(self, clock: Callable[[], float]):
        self.clock = clock
        self.files: dict[str, MediaFile] = {}
        self.reads = 0  # media/get answered with a file (tests see the channel fetched it)

    def add(self, data: bytes, content_type: str, filename: str) -> str:
        media_id = "3" + secrets.token_urlsafe(40)[:50]  # opaque, like WeCom's
        self.files[media_id] = MediaFile(data, content_type, filename, self.clock())
        return media_id

    def get(self, media_id: str) -> Optional[MediaFile]:
        found = self.files.get(media_id)
        if found is None or self.clock() - found.created_at > MEDIA_TTL:
            return None
        self.reads += 1
        return found
