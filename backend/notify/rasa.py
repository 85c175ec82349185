"""Delivery through Rasa: ``trigger_intent`` into the recipient's WeCom conversation.

The bot then runs ``action_deliver_notification`` in that conversation, so what the
user reads next (a card with buttons) and what they type after it share one context.
"""
from __future__ import annotations

import time
from typing import Any
from urllib.parse import quote

import aiohttp
import jwt

from .outbox import Delivery

INTENT = "EXTERNAL_notification"
# Payload fields the bot reads, passed on as entities (strings).
PAYLOAD_ENTITIES = ("number", "opinion", "node_name", "actor_name", "waited_hours")


class DeliveryFailed(Exception):
    """The receiver did not confirm (no answer, or a status other than 200)."""


def conversation_id(wecom_userid: str) -> str:
    return f"wecom:{wecom_userid}"


def entities(delivery: Delivery) -> dict[str, str]:
    """The intent's entities. ``outbox_id`` lets the bot ignore a repeated delivery."""
    found: dict[str, Any] = {"notification_event": delivery.event, "outbox_id": delivery.id,
                             "task_id": delivery.task_id, "application_id": delivery.application_id}
    for key in PAYLOAD_ENTITIES:
        found[key] = delivery.payload.get(key)
    if delivery.payload.get("signers"):
        found["signers"] = "、".join(delivery.payload["signers"])
    return {key: str(value) for key, value in found.items() if value not in (None, "")}


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

    async def deliver(self, delivery: Delivery) -> None:
        url = f"{self.rasa_url}/conversations/{quote(conversation_id(delivery.wecom_userid), safe=':')}/trigger_intent"
        params = {"output_channel": "wecom"}
        headers = {"Authorization": f"Bearer {api_token(self.jwt_secret)}"}  # never in the URL, which logs keep
        body = {"name": INTENT, "entities": entities(delivery)}
        try:
            async with self.session.post(url, params=params, json=body, headers=headers,
                                         timeout=self.timeout) as response:
                if response.status != 200:
                    detail = (await response.text())[:200]
                    raise DeliveryFailed(f"Rasa answered HTTP {response.status}: {detail}")
                await response.read()
        except (aiohttp.ClientError, TimeoutError) as error:
            raise DeliveryFailed(f"Rasa unreachable: {error.__class__.__name__} {error}".strip()) from error
