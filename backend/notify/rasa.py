"""Delivery through Rasa: ``trigger_intent`` into the recipient's conversation
(``wecom:<userid>``, or ``web:<username>`` for people without WeCom).

The bot then runs ``action_deliver_notification`` in that conversation, so what the
user reads next (a card with buttons) and what they type after it share one context.
Delivered means: HTTP 200 (the wecom channel sends inside the turn and fails it when
WeCom does not answer errcode 0) and the tracker in the answer remembers the outbox id
(Rasa also answers 200 when the action server or the backend failed the action). For
the web, what the bot said is read from that tracker — the turn after the notification
with this outbox id — so a row tried again after the notifier crashed finds the words
said the first time, and the worker keeps them as the user's notice.
"""
from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import quote

import aiohttp
import jwt

from .outbox import WEB, WECOM, Delivery

INTENT = "EXTERNAL_notification"
# Payload fields the bot reads, passed on as entities (strings).
PAYLOAD_ENTITIES = ("number", "opinion", "node_name", "actor_name", "waited_hours",
                    "helpdesk_text", "staff_name", "ticket_id", "question",  # these four: the help desk's
                    "to_node_name",  # 退回到环节
                    "pending_count")  # the morning digest's
SHOWN_SLOT = "notified_outbox_ids"  # actions/notifications.py remembers shown outbox ids here


class DeliveryFailed(Exception):
    """The receiver did not confirm (no answer, or a status other than 200)."""


def entities(delivery: Delivery) -> dict[str, str]:
    """The intent's entities. ``outbox_id`` lets the bot ignore a repeated delivery."""
    found: dict[str, Any] = {"notification_event": delivery.event, "outbox_id": delivery.id,
                             "task_id": delivery.task_id, "application_id": delivery.application_id}
    for key in PAYLOAD_ENTITIES:
        found[key] = delivery.payload.get(key)
    if delivery.payload.get("signers"):
        found["signers"] = "、".join(delivery.payload["signers"])
    if delivery.payload.get("oldest"):  # the morning digest's oldest items, as JSON (entities are strings)
        found["digest_oldest"] = json.dumps(delivery.payload["oldest"], ensure_ascii=False)
    return {key: str(value) for key, value in found.items() if value not in (None, "")}


def shown_in(answer: Any, outbox_id: int) -> bool:
    """Whether the conversation Rasa answers with remembers this notification as shown:
    only a turn that showed it (or found it shown before) records its outbox id."""
    tracker = answer.get("tracker") if isinstance(answer, dict) else None
    slots = tracker.get("slots") if isinstance(tracker, dict) else None
    shown = slots.get(SHOWN_SLOT) if isinstance(slots, dict) else None
    return isinstance(shown, list) and str(outbox_id) in map(str, shown)


def said_for(answer: dict[str, Any], outbox_id: int) -> list[dict[str, Any]]:
    """What the bot said in reply to the notification with this outbox id, as web chat
    messages: the bot events after that user event, up to the next user event. A repeat
    (the notifier crashed after a try) is answered with silence: the first reply counts."""
    said: list[dict[str, Any]] = []
    current: list[dict[str, Any]] | None = None  # collecting after a user event of this id
    for event in (answer.get("tracker") or {}).get("events") or []:
        if event.get("event") == "user":
            if current:
                said = current
            entities = (event.get("parse_data") or {}).get("entities") or []
            ours = any(e.get("entity") == "outbox_id" and str(e.get("value")) == str(outbox_id) for e in entities)
            current = [] if ours else None
        elif event.get("event") == "bot" and current is not None:
            data = event.get("data") or {}
            message = {"text": event.get("text"), "buttons": data.get("buttons"), "custom": data.get("custom")}
            current.append({key: value for key, value in message.items() if value})
    return current or said


# Each call signs its own token: a leaked one is useless within a minute (Rasa adds 3 minutes' leeway).
API_TOKEN_SECONDS = 60


def api_token(jwt_secret: str, now: float | None = None) -> str:
    """A JWT for Rasa's HTTP API (rasa/server.py ``requires_auth``: role admin may use any conversation)."""
    issued = int(time.time() if now is None else now)
    claims = {"user": {"username": "notifier", "role": "admin"}, "iat": issued, "exp": issued + API_TOKEN_SECONDS}
    return jwt.encode(claims, jwt_secret, algorithm="HS256")


class RasaTrigger:
    def __init__(self, rasa_url: str, jwt_secret: str, session: aiohttp.ClientSession, timeout_seconds: float):
        self.rasa_url, self.jwt_secret, self.session = rasa_url.rstrip("/"), jwt_secret, session
        self.timeout = aiohttp.ClientTimeout(total=timeout_seconds)

    async def deliver(self, delivery: Delivery) -> list[dict[str, Any]]:
        """Deliver, or raise DeliveryFailed; for the web, what the bot said (the notice to keep)."""
        url = f"{self.rasa_url}/conversations/{quote(delivery.conversation_id, safe=':')}/trigger_intent"
        # WeCom: the wecom channel sends inside the turn. Web: Rasa collects what is said.
        params = {"output_channel": "wecom"} if delivery.channel == WECOM else {}
        headers = {"Authorization": f"Bearer {api_token(self.jwt_secret)}"}  # never in the URL, which logs keep
        body = {"name": INTENT, "entities": entities(delivery)}
        try:
            async with self.session.post(url, params=params, json=body, headers=headers,
                                         timeout=self.timeout) as response:
                if response.status != 200:
                    detail = (await response.text())[:200]
                    raise DeliveryFailed(f"Rasa answered HTTP {response.status}: {detail}")
                answer = await response.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, ValueError) as error:
            raise DeliveryFailed(f"Rasa unreachable: {error.__class__.__name__} {error}".strip()) from error
        if not shown_in(answer, delivery.id):
            # Rasa answers 200 even when the action server or the backend failed the action.
            raise DeliveryFailed("the bot did not confirm showing it (action server or backend unavailable?)")
        return said_for(answer, delivery.id) if delivery.channel == WEB else []


class RasaUnavailable(Exception):
    """Rasa's HTTP API did not answer with the tracker."""


async def conversation_events(rasa_url: str, jwt_secret: str, session: aiohttp.ClientSession, sender: str,
                              timeout_seconds: float = 5.0) -> list[dict[str, Any]]:
    """A conversation's events from Rasa's durable tracker store (``GET /conversations/{id}/tracker``),
    read with an admin JWT as the trigger is sent (the help-desk console shows them)."""
    url = f"{rasa_url.rstrip('/')}/conversations/{quote(sender, safe=':')}/tracker"
    headers = {"Authorization": f"Bearer {api_token(jwt_secret)}"}
    try:
        async with session.get(url, headers=headers, timeout=aiohttp.ClientTimeout(total=timeout_seconds)) as response:
            if response.status != 200:
                raise RasaUnavailable(f"Rasa answered HTTP {response.status}")
            tracker = await response.json(content_type=None)
    except (aiohttp.ClientError, TimeoutError, ValueError) as error:
        raise RasaUnavailable(f"{error.__class__.__name__} {error}".strip()) from error
    events = tracker.get("events") if isinstance(tracker, dict) else None
    return events if isinstance(events, list) else []
