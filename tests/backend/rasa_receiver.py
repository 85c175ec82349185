"""A stand-in for Rasa's trigger_intent endpoint in backend tests: it records every call
and answers with scripted HTTP statuses. The real Rasa path is covered end to end by
the WeCom channel tests."""
from __future__ import annotations

import asyncio
from typing import Any, Optional

from aiohttp import web


class RasaReceiver:
    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []
        self.statuses: list[int] = []  # answered in order; 200 once they run out
        self.gate: Optional[asyncio.Event] = None  # when set, answers wait for it
        self.delay = 0.0

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/conversations/{conversation}/trigger_intent", self._trigger_intent)
        return app

    async def _trigger_intent(self, request: web.Request) -> web.Response:
        self.calls.append({"conversation": request.match_info["conversation"], "query": dict(request.query),
                           "authorization": request.headers.get("Authorization"), "body": await request.json()})
        if self.gate is not None:
            await self.gate.wait()
        if self.delay:
            await asyncio.sleep(self.delay)
        status = self.statuses.pop(0) if self.statuses else 200
        return web.json_response({"tracker": {}} if status == 200 else {"error": "scripted"}, status=status)

    def outbox_ids(self) -> list[int]:
        return [int(call["body"]["entities"]["outbox_id"]) for call in self.calls]

    async def wait_for_calls(self, count: int, timeout: float = 20) -> None:
        async def reached() -> None:
            while len(self.calls) < count:
                await asyncio.sleep(0.02)

        await asyncio.wait_for(reached(), timeout)
