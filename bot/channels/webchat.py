"""The authenticated web chat: Rasa custom channel ``webchat``.

POST /webhooks/webchat/webhook {"token": "<JWT>", "message": "..."} → the bot's replies
as a JSON list, like the REST channel (text, buttons, images, custom payloads). Custom
data the actions state for every channel is rendered here for the web: a progress
diagram (``progress_diagram``) becomes a 「查看流程图」 line whose hall path the panel
(backend/web/static/chat.js) shows as a link.

Typed text is language: a message starting with "/" (Rasa's prefix for an intent payload,
``/approve{"task_id": "7"}``, ``/restart``, ``/EXTERNAL_notification``) is passed on as a
payload only when it is the payload of a button the assistant showed in this conversation
(a click in the panel sends the button's payload); anything else loses its leading "/" and
goes through NLU like any sentence — as typed text does in the WeCom channel.

The token is issued by the backend to a logged-in user (HS256 with WEBCHAT_TOKEN_SECRET,
aud "webchat", short expiry) and verified on every message; the sender is always
``web:<username>`` taken from the token, never from the request. A forged, expired or
missing token gets 401 and nothing reaches the bot.
"""
from __future__ import annotations

import json
import logging
import os
import re
from typing import Any, Awaitable, Callable, Dict, Iterable, Optional, Set, Text

import jwt
from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage
from rasa.shared.constants import INTENT_MESSAGE_PREFIX
from rasa.shared.core.events import BotUttered
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

logger = logging.getLogger(__name__)

SECRET_ENV = "WEBCHAT_TOKEN_SECRET"
AUDIENCE = "webchat"
ISSUER = "campus-affairs"  # the backend's issuer (backend/auth/tokens.py)
MAX_BODY_BYTES = 8 * 1024
MAX_MESSAGE_CHARS = 1000
USERNAME = re.compile(r"^[A-Za-z0-9_.@-]{1,64}$")
PROGRESS_DIAGRAM = "progress_diagram"  # stated by actions/applications.py
DIAGRAM_PATH = re.compile(r"^/applications/\d+/progress$")  # a page of the hall, nothing else


def sender_from_token(secret: str, token: Any) -> Optional[str]:
    """``web:<username>`` for a valid token; None for anything forged, expired or malformed."""
    if not isinstance(token, str) or not token:
        return None
    try:
        claims = jwt.decode(token, secret, algorithms=["HS256"], audience=AUDIENCE, issuer=ISSUER,
                            options={"require": ["exp", "aud", "iss", "usr"]})
    except jwt.PyJWTError:
        return None
    username = claims.get("usr")
    if not isinstance(username, str) or not USERNAME.match(username):
        return None
    return f"web:{username}"


def json_object(raw: bytes) -> Dict[str, Any]:
    """The request's JSON object; empty for anything oversized or malformed."""
    if len(raw) > MAX_BODY_BYTES:
        return {}
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return {}
    return body if isinstance(body, dict) else {}


def message_text(body: Dict[str, Any]) -> Optional[str]:
    message = body.get("message")
    if not isinstance(message, str) or not message.strip() or len(message) > MAX_MESSAGE_CHARS:
        return None
    return message.strip()


OfferedPayloads = Callable[[Request, Text], Awaitable[Set[Text]]]


def button_payloads(events: Iterable[Any]) -> Set[Text]:
    """The payloads of every button the bot showed in these events."""
    payloads: Set[Text] = set()
    for event in events:
        if isinstance(event, BotUttered):
            for button in (event.data or {}).get("buttons") or []:
                if isinstance(button, dict) and isinstance(button.get("payload"), str):
                    payloads.add(button["payload"])
    return payloads


async def offered_in_tracker(request: Request, sender: Text) -> Set[Text]:
    """Buttons shown in the sender's conversation (its current session, as Rasa's tracker store
    keeps it; pushed notifications included), read from the agent's tracker store."""
    agent = getattr(request.app.ctx, "agent", None)
    tracker = await agent.tracker_store.retrieve(sender) if agent is not None else None
    return button_payloads(tracker.events) if tracker is not None else set()


def as_typed(text: Text, offered: Set[Text]) -> Text:
    """What reaches Rasa: an offered button's payload as it is, any other "/…" as plain text."""
    if not text.startswith(INTENT_MESSAGE_PREFIX) or text in offered:
        return text
    return text.lstrip(INTENT_MESSAGE_PREFIX).strip()


def diagram_line(custom: Any) -> Optional[str]:
    """「查看流程图:/applications/7/progress」 for a message that names its progress diagram."""
    diagram = custom.get(PROGRESS_DIAGRAM) if isinstance(custom, dict) else None
    path = diagram.get("path") if isinstance(diagram, dict) else None
    if not isinstance(path, str) or not DIAGRAM_PATH.match(path):
        return None
    return f"查看流程图:{path}"


def rendered(message: Dict[str, Any]) -> Dict[str, Any]:
    """The message as the web chat shows it: its progress diagram, if any, as a line of its text."""
    line = diagram_line(message.get("custom"))
    if line is None:
        return message
    text = message.get("text") or ""
    return {**message, "text": f"{text}\n{line}" if text else line}


class WebChatOutput(CollectingOutputChannel):
    """The turn's replies, collected for the HTTP answer, with the actions' custom data rendered."""

    async def send_response(self, recipient_id: Text, message: Dict[Text, Any]) -> None:
        await super().send_response(recipient_id, rendered(dict(message)))


def refused(status: int, code: str, message: str) -> HTTPResponse:
    return response.json({"error": {"code": code, "message": message}}, status=status,
                         dumps=lambda body: json.dumps(body, ensure_ascii=False))


class WebChatInput(InputChannel):
    @classmethod
    def name(cls) -> Text:
        return "webchat"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> InputChannel:
        secret = os.environ.get(SECRET_ENV, "")
        if len(secret) < 32:
            raise ValueError(
                f"The webchat channel needs {SECRET_ENV} (at least 32 characters, the same value the "
                "backend uses); `make env` writes one to .env.")
        return cls(secret)

    def __init__(self, secret: Text, offered: OfferedPayloads = offered_in_tracker) -> None:
        self.secret = secret
        self.offered = offered

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webchat = Blueprint("webchat_webhook", __name__)

        @webchat.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webchat.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            body = json_object(request.body or b"")
            # The token decides who is talking; nothing else in the body is trusted before it.
            sender = sender_from_token(self.secret, body.get("token"))
            if sender is None:
                return refused(401, "invalid_token", "对话凭证无效或已过期,请刷新页面")
            text = message_text(body)
            if text is None:
                return refused(400, "bad_message", f"需要非空的 message,不超过 {MAX_MESSAGE_CHARS} 字")
            if text.startswith(INTENT_MESSAGE_PREFIX):
                text = as_typed(text, await self.offered(request, sender))
            if not text:  # only slashes: nothing to say
                return response.json([])
            collector = WebChatOutput()
            try:
                await on_new_message(UserMessage(text, collector, sender, input_channel=self.name()))
            except Exception:  # like the REST channel: log, answer with what was collected
                logger.exception("webchat: the message of %s could not be handled", sender)
            return response.json(collector.messages)

        return webchat

