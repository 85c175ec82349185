"""Short-lived shared state of the WeCom channel: callback dedupe marks, numbered menus, sent cards.

In-process by default; Redis (``WECOM_REDIS_URL``) when several Rasa instances must share
it, because WeCom may deliver a retry of a callback to another instance.
"""
from __future__ import annotations

import logging
import time
from typing import Callable, Optional, Protocol

PREFIX = "wecom:"
DEDUPE_TTL = 3600  # longer than the callbacks' replay window (callback.py), so a replay is always caught

logger = logging.getLogger(__name__)


class Store(Protocol):
    async def add_if_absent(self, key: str, ttl: int) -> bool: ...
    async def put(self, key: str, value: str, ttl: int) -> None: ...
    async def get(self, key: str) -> Optional[str]: ...
    async def delete(self, key: str) -> None: ...
    async def close(self) -> None: ...


class MemoryStore:
    """A dict with per-key expiry; expired keys are swept as the dict grows."""

    def __init__(self, clock: Callable[[], float] = time.monotonic, sweep_every: int = 1024):
        self._items: dict[str, tuple[float, str]] = {}
        self._clock, self._sweep_every, self._writes = clock, sweep_every, 0

    async def add_if_absent(self, key: str, ttl: int) -> bool:
        if await self.get(key) is not None:
            return False
        await self.put(key, "1", ttl)
        return True

    async def put(self, key: str, value: str, ttl: int) -> None:
        self._writes += 1
        if self._writes % self._sweep_every == 0:
            self._sweep()
        self._items[key] = (self._clock() + ttl, value)

    async def get(self, key: str) -> Optional[str]:
        item = self._items.get(key)
        if item is None:
            return None
        if item[0] <= self._clock():
            del self._items[key]
            return None
        return item[1]

    async def delete(self, key: str) -> None:
        self._items.pop(key, None)

    async def close(self) -> None:
        self._items.clear()

    def _sweep(self) -> None:
        now = self._clock()
        for key in [k for k, (expires, _) in self._items.items() if expires <= now]:
            del self._items[key]


class RedisStore:
    """The same operations on Redis: SET NX EX makes add_if_absent atomic across instances."""

    def __init__(self, url: str):
        import redis.asyncio as redis  # only needed when configured

        self._redis = redis.from_url(url, decode_responses=True, socket_timeout=2, socket_connect_timeout=2)

    async def add_if_absent(self, key: str, ttl: int) -> bool:
        return bool(await self._redis.set(PREFIX + key, "1", nx=True, ex=ttl))

    async def put(self, key: str, value: str, ttl: int) -> None:
        await self._redis.set(PREFIX + key, value, ex=ttl)

    async def get(self, key: str) -> Optional[str]:
        return await self._redis.get(PREFIX + key)

    async def delete(self, key: str) -> None:
        await self._redis.delete(PREFIX + key)

    async def close(self) -> None:
        await self._redis.close(close_connection_pool=True)


def store_for(redis_url: Optional[str]) -> Store:
    return RedisStore(redis_url) if redis_url else MemoryStore()


async def first_delivery(store: Store, key: str) -> bool:
    """Marks ``key`` seen; False if it already was (a retry of the same callback)."""
    try:
        return await store.add_if_absent(key, DEDUPE_TTL)
    except Exception:  # noqa: BLE001 — a store outage must not lose users' messages
        logger.exception("WeCom dedupe store unavailable; processing %s without dedupe", key)
        return True
