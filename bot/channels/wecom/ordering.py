"""One member's work at a time, in the order it arrived; different members never wait on each other.

The gateway forwards a member's callbacks in order with it, and the channel runs a member's turns
(and sends their replies) in order with it. In the channel it also keeps a burst of one member's
messages out of Rasa's conversation lock: Rasa gives every waiting message of a conversation a
ticket that expires after 60 s (LockError, the message is lost), so a burst of one member's
messages waiting there behind each other while the bot is busy lost the last ones. Waiting here
has no time limit. Measured with bench-wecom, 20 bursts of 50 callbacks over the demo members
(2026-12-01, a shared machine): with no limit in the channel 980 and 917 of 1,000 replies
arrived (the rest LockError); in member order all 1,000, in 69, 46 and 47 s; with the channel's
former semaphore of 4 turns all 1,000, in 63, 65 and 63 s. Acknowledgement p99 85–196 ms against
69–123 ms: within what other work on the machine moved it by.
"""
from __future__ import annotations

import asyncio
from collections import Counter
from contextlib import asynccontextmanager
from typing import AsyncIterator


class MemberOrder:
    """``async with order.of(userid):`` — a lock per member, forgotten once nobody waits for it."""

    def __init__(self) -> None:
        self._locks: dict[str, asyncio.Lock] = {}
        self._waiting: Counter[str] = Counter()  # holders and waiters per member

    @asynccontextmanager
    async def of(self, member: str) -> AsyncIterator[None]:
        lock = self._locks.setdefault(member, asyncio.Lock())
        self._waiting[member] += 1
        try:
            async with lock:
                yield
        finally:
            self._waiting[member] -= 1
            if not self._waiting[member]:
                del self._waiting[member], self._locks[member]

    def __len__(self) -> int:
        """Members with work held or waiting."""
        return len(self._locks)
