"""A stand-in for Rasa's trigger_intent endpoint in backend tests: it records every call
and answers with scripted HTTP statuses. The real Rasa path is covered end to end by
the WeCom channel tests."""
from __future__ import annotations

import asyncio
from typing import Any, Optional

from aiohttp import web

# The notifier's RASA_JWT_SECRET in these tests: it signs its calls to the stand-in with it.
JWT_SECRET = "rasa-test-jwt-secret-of-32-characters-or-more"


class RasaReceiver:
    """Answers like Rasa with our bot: a 200 carries the conversation's tracker, whose slot
    ``notified_outbox_ids`` holds the ids the bot showed — unless ``unconfirmed`` > 0, which
    plays that many turns whose action failed (Rasa still answers 200, the id is not there)."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []
        self.statuses: list[int] = []  # answered in order; 200 once they run out
        self.gate: Optional[asyncio.Event] = None  # when set, answers wait for it
        self.delay = 0.0
        self.unconfirmed = 0
        self.shown: dict[str, list[str]] = {}
        self.events: dict[str, list[dict[str, Any]]] = {}

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/conversations/{conversation}/trigger_intent", self._trigger_intent)
        return app

    async def _trigger_intent(self, request: web.Request) -> web.Response:
        call = {"conversation": request.match_info["conversation"], "query": dict(request.query),
                "authorization": request.headers.get("Authorization"), "body": await request.json()}
        self.calls.append(call)
        if self.gate is not None:
            await self.gate.wait()
        if self.delay:
            await asyncio.sleep(self.delay)
        status = self.statuses.pop(0) if self.statuses else 200
        if status != 200:
            return web.json_response({"error": "scripted"}, status=status)
        conversation = request.match_info["conversation"]
        shown, events = self.shown.setdefault(conversation, []), self.events.setdefault(conversation, [])
        outbox_id = str(call["body"]["entities"]["outbox_id"])
        events.append({"event": "user", "parse_data": {"entities": [{"entity": "outbox_id", "value": outbox_id}]}})
        if self.unconfirmed > 0:
            self.unconfirmed -= 1
        elif outbox_id not in shown:  # like the bot: a repeat is remembered already and says nothing
            shown.append(outbox_id)
            events.append({"event": "bot", "text": f"通知 {outbox_id}",
                           "data": {"buttons": [{"title": "同意", "payload": "/approve"}]}})
        return web.json_response({"tracker": {"slots": {"notified_outbox_ids": list(shown)}, "events": list(events)},
                                  "messages": []})

    def outbox_ids(self) -> list[int]:
        return [int(call["body"]["entities"]["outbox_id"]) for call in self.calls]

    async def wait_for_calls(self, count: int, timeout: float = 20) -> None:
        async def reached() -> None:
            while len(self.calls) < count:
                await asyncio.sleep(0.02)

        await asyncio.wait_for(reached(), timeout)
