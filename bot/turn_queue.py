"""User turns in arrival order, a few at a time: the one throttle for turns in the Rasa process.

Rasa 3.6 runs NLU and policies on its one event loop. With every waiting turn admitted, a turn
that calls the action server waited behind all the others again when its answer came back, so
under load it took twice as long as a turn answered from the domain (README, assistant
benchmark). Here each turn waits once: at most ``at_once`` (RASA_TURNS_AT_ONCE, default 2) do
their work at a time, first come first served; a custom action still running after a moment
gives its turn's place up (a slow backend blocks no one) and the turn comes back ahead of turns
not yet started. bot/rasa_patches.py puts every user turn (``MessageProcessor.handle_message``)
and every custom action (``RemoteAction.run``) through one ``TurnQueue``.

Every channel's turns pass here — the REST and web chat requests as well as the WeCom channel's
background turns (its ``on_new_message`` is Rasa's ``Agent.handle_message``, which takes the
conversation's lock and then calls ``MessageProcessor.handle_message``) — so no channel needs
a limit of its own on turns. The WeCom channel had one, a semaphore of 4 in front of this queue
of 2: it could not limit the work, which this queue already does, but held back the tail too
(sending a reply may wait a minute for a member's send quota, and four members waiting so held
up every WeCom turn). It did one needed thing, keeping a burst of one member's messages out of
Rasa's conversation lock, whose tickets expire after 60 s; the channel now does that alone, by
running each member's turns in order (bot/channels/wecom/ordering.py), which holds no member up
for another. The WeCom gateway's bound on forwards in flight is not a limit on turns either: the
channel answers a forward as soon as it has checked it; see bot/channels/wecom/gateway.py.

Pure asyncio: nothing here imports Rasa.
"""
from __future__ import annotations

import asyncio
from collections import deque
from contextlib import asynccontextmanager
from contextvars import ContextVar
from typing import AsyncIterator, Awaitable, TypeVar

T = TypeVar("T")


class TurnQueue:
    """User turns in arrival order, at most ``at_once`` doing their work at a time.

    A turn may step aside while it waits for something slow (``stepping_aside_when_slow``)
    and then comes back ahead of every turn that has not started yet, in the order the
    turns came back. Places are handed from one turn to the next, never left up for grabs
    (asyncio.Semaphore lets a newcomer overtake a turn it has just woken).
    """

    def __init__(self, at_once: int):
        self.free = at_once
        self.returning: deque[asyncio.Future] = deque()  # served first
        self.waiting: deque[asyncio.Future] = deque()
        self._holding: ContextVar[bool] = ContextVar(f"holding_{id(self)}", default=False)

    @asynccontextmanager
    async def turn(self) -> AsyncIterator[None]:
        await self._acquire(first=False)
        self._holding.set(True)
        try:
            yield
        finally:
            if self._holding.get():  # not if it gave its place up in a slow wait that then failed
                self._holding.set(False)
                self._release()

    async def stepping_aside_when_slow(self, work: Awaitable[T], patience: float) -> T:
        """Await ``work`` keeping this turn's place; if it takes longer than ``patience`` seconds,
        the place goes to the next turn meanwhile, and this turn comes back ahead of new ones."""
        if not self._holding.get():  # not inside a turn (e.g. a notification's trigger_intent)
            return await work
        stepped_aside = False

        def step_aside() -> None:
            nonlocal stepped_aside
            stepped_aside = True
            self._release()

        timer = asyncio.get_running_loop().call_later(patience, step_aside)
        try:
            result = await work
        except BaseException:
            timer.cancel()
            if stepped_aside:
                self._holding.set(False)  # no place held now: turn() must not give one back
            raise
        timer.cancel()
        if stepped_aside:
            self._holding.set(False)
            await self._acquire(first=True)
            self._holding.set(True)
        return result

    async def _acquire(self, first: bool) -> None:
        if self.free and not self.returning and not self.waiting:
            self.free -= 1
            return
        place = asyncio.get_running_loop().create_future()
        line = self.returning if first else self.waiting
        line.append(place)
        try:
            await place  # resolved by _release: the place is handed over
        except asyncio.CancelledError:
            if place.done() and not place.cancelled():
                self._release()  # handed a place just as cancelled: pass it on
            elif place in line:
                line.remove(place)
            raise

    def _release(self) -> None:
        for line in (self.returning, self.waiting):
            while line:
                place = line.popleft()
                if not place.done():
                    place.set_result(None)
                    return
        self.free += 1
