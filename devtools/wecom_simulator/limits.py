"""WeCom's per-member receive limit for one app: 30 messages a minute and 1000 an hour.

Messages over the limit are not an error for the sender: WeCom answers ok and the
member simply never gets them.
"""
from __future__ import annotations

from collections import defaultdict, deque
from typing import Callable

WINDOWS = ((60.0, 30), (3600.0, 1000))


class MemberRateLimit:
    def __init__(self, clock: Callable[[], float], windows: tuple[tuple[float, int], ...] = WINDOWS):
        self.clock = clock
        self.windows = windows
        self._received: dict[str, deque[float]] = defaultdict(deque)

    def admit(self, userid: str) -> bool:
        """Count one message for ``userid`` if it is under every limit; False means dropped."""
        now = self.clock()
        received = self._received[userid]
        longest = max(seconds for seconds, _ in self.windows)
        while received and received[0] <= now - longest:
            received.popleft()
        for seconds, limit in self.windows:
            if sum(1 for at in received if at > now - seconds) >= limit:
                return False
        received.append(now)
        return True
