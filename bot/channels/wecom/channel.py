"""The WeChat Work (企业微信) channel: ``bot.channels.wecom.channel.WeComInput`` in credentials.yml.

Routes (under /webhooks/wecom/): ``GET webhook`` answers WeCom's URL verification,
``POST webhook`` receives messages and events. A valid callback is answered with an
empty 200 at once — WeCom retries after 5 s without an answer — and the turn runs in the
background; replies go out through message/send. Retries of a callback are recognised
(MsgId, or user + time + event key) and processed once. The sender is
``wecom:<FromUserName>`` from the decrypted message, nothing else.

Pushes (``POST /conversations/wecom:<userid>/trigger_intent?output_channel=wecom``) are
sent inside Rasa's turn, each message as the bot makes it: a failure (an errcode, HTTP
5xx, a timeout, the member's quota) raises into the turn, so Rasa answers 500 and does
not save the tracker — the caller retries and nothing of the failed try was recorded.
A 200 means WeCom accepted every message (errcode 0). Settings come from WECOM_* (see wecom_api/config.py)
through bot/settings.py; without them the channel is off (one log line, its routes answer 503) and
Rasa runs on.

No limit on turns here: every turn goes through Rasa's ``Agent.handle_message`` and so through the
Rasa process's one turn queue (bot/turn_queue.py), which admits a few at a time in arrival order.
A member's turns run one after another (ordering.py): their replies go out in order, and a burst
of one member's messages waits here, not in Rasa's conversation lock, whose tickets expire.
"""
from __future__ import annotations

import asyncio
import logging
from itertools import groupby
from typing import Any, Awaitable, Callable, Optional
from zoneinfo import ZoneInfo

import aiohttp
from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.settings import current as current_settings
from wecom_api import WeComClient, WeComConfig, WeComError

from .callback import MAX_BODY_BYTES, SENDER_PREFIX, USERID, CallbackCrypto, Inbound, Rejected
from .delivery import Delivery
from .ordering import MemberOrder
from .render import ATTACHMENT_QUESTION, stated_outcome
from .store import Store, first_delivery, store_for
from .uploads import NO_UPLOADS, NOT_ASKED, BackendFiles, UploadRefused

logger = logging.getLogger(__name__)

TURN_MAX_WAIT = 60.0           # a reply may wait this long for the member's send quota
PUSH_MAX_WAIT = 5.0            # a push may not (its caller retries later)
GREET_PAYLOAD = "/greet"
PLEASE_TYPE_TEXT = "抱歉,我暂时只能看懂文字消息,请发文字告诉我您想办的事 🙂"


class ChannelOff(Exception):
    pass


class Runtime:
    """What the channel needs while the server runs: crypto, API client, dedupe store, background turns."""

    def __init__(self, config: WeComConfig, on_new_message: Callable[[UserMessage], Awaitable[Any]],
                 timezone: ZoneInfo, hall_url: Optional[str] = None):
        self.crypto = CallbackCrypto(config.token, config.aes_key, config.corp_id)
        self.session = aiohttp.ClientSession()
        self.store: Store = store_for(config.redis_url)
        self.client = WeComClient(config.api_base, config.corp_id, config.secret, self.session,
                                  agent_id=config.agent_id)
        self.delivery = Delivery(self.client, self.store, timezone=timezone, hall_url=hall_url)
        backend = current_settings().backend
        self.files = BackendFiles(backend[0], backend[1], self.session) if backend else None
        self.on_new_message = on_new_message
        self.in_order = MemberOrder()
        self.tasks: set[asyncio.Task] = set()

    async def close(self) -> None:
        for task in list(self.tasks):
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        await self.session.close()
        await self.store.close()

    def spawn(self, work: Awaitable[None]) -> None:
        task = asyncio.ensure_future(work)
        self.tasks.add(task)  # a reference, or the loop may drop the task mid-way
        task.add_done_callback(self.tasks.discard)

    async def is_first_delivery(self, inbound: Inbound) -> bool:
        return await first_delivery(self.store, f"seen:{inbound.dedupe_key}")

    async def process(self, inbound: Inbound) -> None:
        try:
            async with self.in_order.of(inbound.userid):
                await self._turn(inbound)
        except WeComError as error:
            logger.error("WeCom reply to %s failed: errcode %s %s", inbound.userid, error.errcode, error.errmsg)
        except Exception:  # noqa: BLE001 — a background task has nobody else to tell
            logger.exception("WeCom turn for %s failed", inbound.userid)

    async def _turn(self, inbound: Inbound) -> None:
        if inbound.kind == "ignored":
            return
        metadata: dict[str, Any] = {"wecom_event": inbound.kind}
        if inbound.kind == "media":
            uploaded = await self._attachment(inbound)
            if uploaded is None:
                return
            text = f"附件:{uploaded['name']}"
            metadata["uploaded_files"] = [{"id": uploaded["id"], "name": uploaded["name"]}]
        else:
            text = await self._message_text(inbound)
        if not text:
            return
        output = WeComOutput(self)
        await self.on_new_message(UserMessage(text, output, inbound.sender_id, input_channel=WeComInput.name(),
                                              metadata=metadata))
        if inbound.kind == "click":
            await self.delivery.close_card(inbound, stated_outcome(output.messages))
        await output.flush(TURN_MAX_WAIT)

    async def _attachment(self, inbound: Inbound) -> Optional[dict[str, Any]]:
        """A picture or file sent while a form asks for an attachment: fetched from WeCom and
        kept by the backend as the member's (what it is, with its id). Anything else sent, or
        at another time, is answered here and goes no further (None)."""
        asked = await self.delivery.asked_for_attachment(inbound.userid)
        if inbound.media_type not in ("image", "file") or not inbound.media_id:
            reply = PLEASE_TYPE_TEXT
        elif asked is None:
            reply = NOT_ASKED
        elif self.files is None:
            reply = NO_UPLOADS
        else:
            fallback = inbound.file_name or f"图片{inbound.dedupe_key[-6:]}.jpg"
            try:
                media = await self.client.get_media(inbound.media_id)
                return await self.files.upload(inbound.sender_id, media, fallback)
            except WeComError as error:
                logger.warning("media/get for %s failed: errcode %s %s", inbound.userid, error.errcode, error.errmsg)
                reply = "没能从企业微信取到这个文件(可能已过期),请重新发送一次。"
            except UploadRefused as refused:
                reply = f"这个文件没能收下:{refused},请换一个文件再发。"
        # A question still open stays open: the member may send another file.
        still = {"custom": {ATTACHMENT_QUESTION: asked}} if asked is not None else {}
        await self.delivery.send_turn(inbound.userid, [{"text": reply, **still}], TURN_MAX_WAIT)
        return None

    async def _message_text(self, inbound: Inbound) -> str:
        if inbound.kind == "enter":
            return GREET_PAYLOAD
        if inbound.kind == "click":
            return inbound.text  # the button key is the payload we put on the card
        choice = await self.delivery.take_menu_choice(inbound.userid, inbound.text)
        # Typed text is language, never a Rasa payload: a leading "/" would skip NLU.
        return choice or inbound.text.strip().lstrip("/").strip()


class WeComOutput(CollectingOutputChannel):
    """A turn's messages. A reply collects them and sends them merged when flushed; a push
    (``immediate``) sends each message as it is made and raises if WeCom did not take it."""

    def __init__(self, runtime: Optional[Runtime], immediate: bool = False):
        super().__init__()
        self.runtime, self.immediate = runtime, immediate
        self._flushed = 0

    @classmethod
    def name(cls) -> str:
        return "wecom"

    async def send_response(self, recipient_id: str, message: dict[str, Any]) -> None:
        """A message with custom data stays one message (Rasa would split it in two): the data
        describes it — a notification's delivery key, a decision's outcome."""
        if message.get("custom") and (message.get("text") or message.get("buttons")):
            await self._persist_message(self._message(recipient_id, text=message.get("text"),
                                                      image=message.get("image"), buttons=message.get("buttons"),
                                                      custom=message.get("custom")))
            return
        await super().send_response(recipient_id, message)

    async def _persist_message(self, message: dict[str, Any]) -> None:
        await super()._persist_message(message)
        if self.immediate:
            await self.flush(PUSH_MAX_WAIT)

    async def flush(self, max_wait: float) -> None:
        pending, self._flushed = self.messages[self._flushed:], len(self.messages)
        if not pending:
            return
        if self.runtime is None:
            raise ChannelOff("the WeCom channel is not configured")
        for recipient, messages in groupby(pending, key=lambda m: m.get("recipient_id", "")):
            userid = recipient[len(SENDER_PREFIX):] if recipient.startswith(SENDER_PREFIX) else ""
            if not USERID.match(userid):
                logger.warning("WeCom output for a non-WeCom conversation %r dropped", recipient)
                continue
            await self.runtime.delivery.send_turn(userid, list(messages), max_wait)


class WeComInput(InputChannel):
    def __init__(self, config: Optional[WeComConfig], timezone: ZoneInfo, hall_url: Optional[str] = None):
        self.config, self.timezone, self.hall_url = config, timezone, hall_url
        self.runtime: Optional[Runtime] = None

    @classmethod
    def name(cls) -> str:
        return "wecom"

    @classmethod
    def from_credentials(cls, credentials: Optional[dict[str, Any]]) -> "WeComInput":
        settings = current_settings()
        if settings.wecom is None:
            logger.warning("WeCom channel is off: %s (set WECOM_CORP_ID, WECOM_AGENT_ID, WECOM_SECRET, "
                           "WECOM_TOKEN, WECOM_AES_KEY to turn it on)", settings.wecom_off_because)
        return cls(settings.wecom, settings.timezone, settings.hall_url)

    def get_output_channel(self) -> "WeComOutput":
        """For pushes (trigger_intent): every message is sent inside the turn, failures raise."""
        return WeComOutput(self.runtime, immediate=True)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        bp = Blueprint("wecom_webhook", __name__)

        @bp.listener("before_server_start")
        async def start(app, _loop) -> None:
            if self.config is not None:
                self.runtime = Runtime(self.config, on_new_message, self.timezone, self.hall_url)
            app.register_middleware(self._refuse_pushes_when_off, "request")

        @bp.listener("after_server_stop")
        async def stop(_app, _loop) -> None:
            if self.runtime is not None:
                await self.runtime.close()

        @bp.route("/", methods=["GET"])
        async def health(_request: Request) -> HTTPResponse:
            return response.json({"status": "ok" if self.runtime else "off"}, status=200 if self.runtime else 503)

        @bp.route("/webhook", methods=["GET"])
        async def verify_url(request: Request) -> HTTPResponse:
            if self.runtime is None:
                return response.text("WeCom channel is not configured", status=503)
            try:
                return response.text(self.runtime.crypto.verify_url(query_of(request)))
            except Rejected as rejected:
                logger.info("WeCom URL verification rejected: %s", rejected.reason)
                return response.text(rejected.reason, status=rejected.status)

        @bp.route("/webhook", methods=["POST"], stream=True)
        async def receive(request: Request) -> HTTPResponse:
            if self.runtime is None:
                return response.text("WeCom channel is not configured", status=503)
            try:
                inbound = self.runtime.crypto.open(query_of(request), await read_body(request, MAX_BODY_BYTES))
            except Rejected as rejected:
                logger.info("WeCom callback rejected (%s): %s", rejected.status, rejected.reason)
                return response.text(rejected.reason, status=rejected.status)
            if await self.runtime.is_first_delivery(inbound):
                self.runtime.spawn(self.runtime.process(inbound))
            else:
                logger.info("WeCom callback %s already received, ignored", inbound.dedupe_key)
            return response.text("")

        return bp

    # App-wide: a push to a channel that is off is refused before Rasa runs the turn.
    async def _refuse_pushes_when_off(self, request: Request) -> Optional[HTTPResponse]:
        if self.runtime is None and request.args.get("output_channel") == self.name():
            return failure(503, "WeComChannelOff", "the WeCom channel is not configured")
        return None


def failure(status: int, reason: str, message: str) -> HTTPResponse:
    return response.json({"status": "failure", "reason": reason, "message": message, "code": status}, status=status)


def query_of(request: Request) -> dict[str, str]:
    return {key: request.args.get(key) for key in request.args}


async def read_body(request: Request, limit: int) -> bytes:
    """The request body, refusing (413) as soon as it is known to exceed ``limit`` bytes."""
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > limit):
        raise Rejected(413 if declared.isdigit() else 400, "body too large" if declared.isdigit() else "bad length")
    chunks, size = [], 0
    while True:
        chunk = await request.stream.read()
        if chunk is None:
            return b"".join(chunks)
        size += len(chunk)
        if size > limit:
            raise Rejected(413, "body too large")
        chunks.append(chunk)
