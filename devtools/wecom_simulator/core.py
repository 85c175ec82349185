"""The simulated WeCom server's behaviour, independent of HTTP: sending, cards, callbacks."""
from __future__ import annotations

import json
import secrets
import time
from typing import Any, Callable, Optional, Union

from .callback import CallbackClient, Delivery, MessageFactory
from .config import SimulatorConfig
from .contacts import Directory
from .errors import WeComApiError
from .limits import MemberRateLimit
from .messages import INTERACTIVE, validate_message, validate_template_card
from .state import CardBook, FaultPlan, MediaStore, OAuthCodes, SentLog
from .tokens import TokenStore

DUPLICATE_CHECK_DEFAULT = 1800
DUPLICATE_CHECK_MAX = 4 * 3600


class ControlError(Exception):
    """A bad request to the control API (not a WeCom errcode): HTTP status + message."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


def _split(value: Any) -> list[str]:
    return [part for part in str(value).split("|") if part] if value not in (None, "") else []


class Simulator:
    def __init__(self, config: SimulatorConfig, directory: Directory,
                 clock: Callable[[], float] = time.time):
        self.config = config
        self.directory = directory
        self.clock = clock
        self.tokens = TokenStore(config.token_ttl, clock)
        self.faults = FaultPlan()
        self.factory = MessageFactory(config)
        self.callback: Optional[CallbackClient] = None   # set when the app starts
        self.oauth = OAuthCodes(clock)
        self.media = MediaStore(clock)
        self.reset()

    def reset(self) -> None:
        """Forget messages, cards, deliveries, rate counts and faults (tokens stay valid)."""
        self.log = SentLog()
        self.cards = CardBook(self.clock)
        self.limits = MemberRateLimit(self.clock)
        self.deliveries: list[Delivery] = []
        self.recent: dict[str, tuple[float, str]] = {}  # duplicate check: message → (sent at, msgid)
        self.faults.clear()

    # ------------------------------------------------------------ WeCom API
    def check_agent(self, agentid: Any) -> None:
        if agentid in (None, ""):
            raise WeComApiError(41011)
        try:
            if int(agentid) == self.config.agent_id:
                return
        except (TypeError, ValueError):
            pass
        raise WeComApiError(40056)

    def _recipients(self, payload: dict[str, Any]) -> tuple[list[str], dict[str, str]]:
        users, parties, tags = _split(payload.get("touser")), _split(payload.get("toparty")), _split(payload.get("totag"))
        valid: list[str] = []
        invalid = {"invaliduser": [], "invalidparty": [], "invalidtag": tags}
        if users == ["@all"]:
            valid = list(self.directory.members)
        else:
            for userid in users:
                member = self.directory.member(userid)
                if member:
                    valid.append(member.userid)
                else:
                    invalid["invaliduser"].append(userid.lower())
            for party in parties:
                if party.isdigit() and int(party) in self.directory.departments:
                    valid += [m.userid for m in self.directory.members_of(int(party), with_children=True)]
                else:
                    invalid["invalidparty"].append(party)
        unique = list(dict.fromkeys(valid))
        if not unique:
            raise WeComApiError(81013)
        return unique, {name: "|".join(values) for name, values in invalid.items()}

    def send(self, payload: dict[str, Any]) -> dict[str, Any]:
        self.check_agent(payload.get("agentid"))
        msgtype, body = validate_message(payload)
        recipients, invalid = self._recipients(payload)
        repeat = self._duplicate_check(payload, recipients, msgtype, body)
        if repeat is not None:  # the same message within the interval: accepted, not delivered again
            return {**invalid, "unlicenseduser": "", "msgid": repeat}
        task_id = body.get("task_id") if msgtype == "template_card" else None
        if task_id:
            self.cards.ensure_new(task_id)
        msgid = secrets.token_urlsafe(24)
        received = set()
        for userid in recipients:
            admitted = self.limits.admit(userid)
            self.log.record(msgid=msgid, touser=userid, msgtype=msgtype, body=body,
                            at=self.clock(), dropped=not admitted)
            if admitted:
                received.add(userid)
        answer: dict[str, Any] = {**invalid, "unlicenseduser": "", "msgid": msgid}
        if payload.get("enable_duplicate_check") == 1:
            self.recent[self._fingerprint(recipients, msgtype, body)] = (self.clock(), msgid)
        if task_id:
            self.cards.add(task_id, body, received)
            if body["card_type"] in INTERACTIVE:
                answer["response_code"] = self.cards.issue_code(task_id, None)
        return answer

    @staticmethod
    def _fingerprint(recipients: list[str], msgtype: str, body: dict[str, Any]) -> str:
        return json.dumps([sorted(recipients), msgtype, body], sort_keys=True, ensure_ascii=False)

    def _duplicate_check(self, payload: dict[str, Any], recipients: list[str], msgtype: str,
                         body: dict[str, Any]) -> Optional[str]:
        """WeCom's enable_duplicate_check: the msgid of the same message sent within
        duplicate_check_interval seconds (default 1800, at most 4 hours), if there was one."""
        if payload.get("enable_duplicate_check") != 1:
            return None
        interval = payload.get("duplicate_check_interval", DUPLICATE_CHECK_DEFAULT)
        if not isinstance(interval, int) or not 0 < interval <= DUPLICATE_CHECK_MAX:
            raise WeComApiError(40058, "duplicate_check_interval must be 1 to 14400 seconds")
        seen = self.recent.get(self._fingerprint(recipients, msgtype, body))
        return seen[1] if seen is not None and self.clock() - seen[0] < interval else None

    def update_card(self, payload: dict[str, Any]) -> dict[str, Any]:
        self.check_agent(payload.get("agentid"))
        if isinstance(payload.get("button"), dict):
            name = payload["button"].get("replace_name")
            if not isinstance(name, str) or not name:
                raise WeComApiError(40058, "button.replace_name missing")
            update: dict[str, Any] = {"button": {"replace_name": name}}
        elif isinstance(payload.get("template_card"), dict):
            validate_template_card(payload["template_card"])
            update = {"template_card": payload["template_card"]}
        else:
            raise WeComApiError(40058, "button or template_card required")
        code = self.cards.redeem(payload.get("response_code"))
        card = self.cards.get(code.task_id)
        assert card is not None  # codes are only issued for recorded cards
        if payload.get("atall") == 1:
            targets = set(card.recipients)
        elif payload.get("userids"):
            targets = {str(u) for u in payload["userids"]}
        else:
            targets = {code.userid} if code.userid else set(card.recipients)
        invalid = sorted(t for t in targets if t not in card.recipients)
        for userid in targets - set(invalid):
            card.updates[userid] = {**update, "at": self.clock()}
        return {"invaliduser": invalid}

    # ------------------------------------------------------------ playing the WeCom server
    def _member(self, userid: Any) -> str:
        member = self.directory.member(userid) if isinstance(userid, str) and userid else None
        if member is None:
            raise ControlError(404, f"no such member: {userid!r}")
        return member.userid

    async def _deliver(self, delivery: Delivery, plaintext: str, **seal: Any) -> Delivery:
        assert self.callback is not None
        self.deliveries.append(delivery)
        params, body = self.callback.seal(plaintext, **seal)
        return await self.callback.post(delivery, params, body)

    async def say(self, userid: Any, text: Any) -> tuple[int, Delivery]:
        userid = self._member(userid)
        if not isinstance(text, str) or not text:
            raise ControlError(400, "text must be a non-empty string")
        plaintext, msgid = self.factory.text(userid, text)
        delivery = Delivery("text", userid, plaintext, self.clock())
        return msgid, await self._deliver(delivery, plaintext)

    async def send_media(self, userid: Any, kind: Any, filename: Any, data: bytes,
                         content_type: Any) -> tuple[str, int, Delivery]:
        """A member sends a picture or a file: kept as temporary media (media/get serves it),
        announced to the app by a callback carrying its MediaId."""
        userid = self._member(userid)
        if kind not in ("image", "file"):
            raise ControlError(400, "kind must be image or file")
        if not isinstance(filename, str) or not filename or not data:
            raise ControlError(400, "filename and content are required")
        media_id = self.media.add(data, content_type if isinstance(content_type, str) and content_type
                                  else "application/octet-stream", filename)
        plaintext, msgid = self.factory.media(userid, kind, media_id, filename)
        delivery = Delivery(kind, userid, plaintext, self.clock())
        return media_id, msgid, await self._deliver(delivery, plaintext)

    async def click(self, userid: Any, task_id: Any, key: Any) -> tuple[str, Delivery]:
        userid = self._member(userid)
        card = self.cards.get(task_id) if isinstance(task_id, str) else None
        if card is None or userid not in card.recipients:
            raise ControlError(404, f"{userid} has no card with task_id {task_id!r}")
        if userid in card.updates:
            raise ControlError(409, "the card was already updated; its buttons are gone")
        if key not in card.keys():
            raise ControlError(400, f"the card has no button with key {key!r}")
        code = self.cards.issue_code(card.task_id, userid)
        plaintext = self.factory.card_click(userid, card.task_id, key, card.card["card_type"], code)
        delivery = Delivery("template_card_event", userid, plaintext, self.clock())
        return code, await self._deliver(delivery, plaintext)

    async def event(self, userid: Any, event: Any, extra: dict[str, Any]) -> Delivery:
        userid = self._member(userid)
        if not isinstance(event, str) or not event:
            raise ControlError(400, "event must be a non-empty string")
        plaintext = self.factory.event(userid, event, {str(k): str(v) for k, v in extra.items()})
        return await self._deliver(Delivery(event, userid, plaintext, self.clock()), plaintext)

    async def deliver(self, xml: Optional[str], body: Optional[str], *, signature_ok: bool,
                      corp_id: Optional[str], tries: Optional[int]) -> Delivery:
        """A raw delivery: ``xml`` is encrypted (optionally for another corp or with a forged
        signature); ``body`` is POSTed verbatim with a signature over nothing valid."""
        assert self.callback is not None
        delivery = Delivery("raw", None, xml, self.clock())
        self.deliveries.append(delivery)
        if body is not None:
            params, _ = self.callback.seal("<xml></xml>", signature_ok=signature_ok)
            payload: Union[str, bytes] = body
        else:
            params, payload = self.callback.seal(xml or "", corp_id=corp_id, signature_ok=signature_ok)
        return await self.callback.post(delivery, params, payload, tries=tries)

    def stats(self) -> dict[str, Any]:
        return {"gettoken_calls": self.tokens.gettoken_calls, "tokens_issued": self.tokens.issued,
                "messages": len(self.log.messages),
                "dropped": sum(1 for m in self.log.messages if m.dropped),
                "deliveries": len(self.deliveries)}
