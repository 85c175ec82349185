"""Sending a bot turn to a WeCom user, and the per-user state replies depend on.

After each turn we remember its numbered menu (so a bare "2" picks that option — for
the very next reply only) and the buttons of every card sent (so a click's outcome can
name the button when the action did not state one).
"""
from __future__ import annotations

import asyncio
import json
import logging
import time
from collections import defaultdict, deque
from datetime import datetime
from typing import Any, Callable, Optional
from zoneinfo import ZoneInfo

from wecom_api import WeComClient, WeComError

from .callback import Inbound
from .render import RenderedTurn, menu_choice, render_turn
from .store import Store

logger = logging.getLogger(__name__)

PER_USER_PER_MINUTE = 30   # WeCom drops a member's 31st message within a minute, silently
ATTACHMENT_TTL = 3600  # a file sent within this time of the question answers it
MENU_TTL = 30 * 60
CARD_TTL = 72 * 3600       # a card's response_code is valid for 72 h
MAX_OUTCOME = 20
DEFAULT_OUTCOME = "已处理"


class RateLimited(Exception):
    """Sending now would exceed WeCom's per-member limit (and WeCom would drop it)."""


class SendRateLimiter:
    """A sliding one-minute window of sends per member, so we wait instead of being dropped."""

    def __init__(self, per_minute: int = PER_USER_PER_MINUTE, clock: Callable[[], float] = time.monotonic):
        self.per_minute, self._clock = per_minute, clock
        self._sent: dict[str, deque[float]] = defaultdict(deque)

    def wait_seconds(self, userid: str) -> float:
        window, now = self._sent[userid], self._clock()
        while window and window[0] <= now - 60:
            window.popleft()
        if not window:
            del self._sent[userid]  # keep the dict as small as the set of active members
            return 0.0
        return 0.0 if len(window) < self.per_minute else window[0] + 60 - now

    def record(self, userid: str) -> None:
        self._sent[userid].append(self._clock())


class Delivery:
    def __init__(self, client: WeComClient, store: Store, limiter: Optional[SendRateLimiter] = None,
                 timezone: ZoneInfo = ZoneInfo("Asia/Shanghai"), hall_url: Optional[str] = None):
        self.client, self.store = client, store
        self.limiter = limiter or SendRateLimiter()
        self.timezone, self.hall_url = timezone, hall_url  # hall_url: for links to the hall's pages

    async def send_turn(self, userid: str, messages: list[dict[str, Any]], max_wait: float) -> RenderedTurn:
        """Send a turn's messages merged; raises RateLimited if the member's quota frees up too late."""
        turn = render_turn(messages, self.hall_url)
        for body in turn.sends:
            wait = self.limiter.wait_seconds(userid)
            if wait > max_wait:
                raise RateLimited(f"{userid} reached {self.limiter.per_minute} messages/min")
            if wait > 0:
                await asyncio.sleep(wait)
            self.limiter.record(userid)
            await self.client.send_message(userid, body)
        for card in turn.cards:
            await self.store.put(f"card:{card.task_id}", json.dumps(card.buttons, ensure_ascii=False), CARD_TTL)
        if turn.menu:
            await self.store.put(f"menu:{userid}", json.dumps(turn.menu, ensure_ascii=False), MENU_TTL)
        elif turn.sends:  # what the user saw last has no menu: a bare number means just a number
            await self.store.delete(f"menu:{userid}")
        if turn.attachment_question:
            await self.store.put(f"attach:{userid}", json.dumps(turn.attachment_question, ensure_ascii=False),
                                 ATTACHMENT_TTL)
        elif turn.sends:  # the last question was another one: a file sent now answers nothing
            await self.store.delete(f"attach:{userid}")
        return turn

    async def asked_for_attachment(self, userid: str) -> Optional[dict[str, Any]]:
        """The attachment question the member saw last, if the last turn asked one."""
        raw = await self.store.get(f"attach:{userid}")
        return json.loads(raw) if raw else None

    async def take_menu_choice(self, userid: str, text: str) -> Optional[str]:
        """The payload a numbered reply picks; any reply uses up the menu."""
        raw = await self.store.get(f"menu:{userid}")
        if raw is None:
            return None
        await self.store.delete(f"menu:{userid}")
        return menu_choice(text, json.loads(raw))

    async def close_card(self, click: Inbound, stated_outcome: Optional[str]) -> None:
        """Replace the clicked card's buttons with the outcome and the time ("已同意 · 2026-11-27 10:32")."""
        if not click.response_code:
            return
        outcome = stated_outcome or await self._clicked_button(click) or DEFAULT_OUTCOME
        stamp = datetime.now(self.timezone).strftime("%Y-%m-%d %H:%M")
        try:
            await self.client.update_template_card([click.userid], click.response_code,
                                                   f"{outcome[:MAX_OUTCOME]} · {stamp}")
        except WeComError as error:  # e.g. the code was used or expired: the turn's reply still went out
            logger.warning("WeCom card %s not updated: errcode %s %s", click.card_task_id, error.errcode, error.errmsg)

    async def _clicked_button(self, click: Inbound) -> Optional[str]:
        raw = await self.store.get(f"card:{click.card_task_id}") if click.card_task_id else None
        title = json.loads(raw).get(click.text) if raw else None
        return f"已选择「{title}」" if title else None
