"""The dedupe/menu store: in-process by default, Redis (real server) when configured."""
from __future__ import annotations

import asyncio
import uuid

import pytest

from bot.channels.wecom.store import MemoryStore, RedisStore

REDIS_URL = "redis://127.0.0.1:6379/0"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_memory_store_marks_once_until_the_mark_expires():
    clock = Clock()
    store = MemoryStore(clock=clock, sweep_every=2)
    assert await store.add_if_absent("seen:1", ttl=60)
    assert not await store.add_if_absent("seen:1", ttl=60)
    clock.now += 61
    assert await store.add_if_absent("seen:1", ttl=60)
    await store.put("other", "x", ttl=1)
    clock.now += 2
    await store.put("third", "y", ttl=10)  # a write sweeps expired keys
    assert "other" not in store._items and await store.get("third") == "y"


@pytest.fixture
async def redis_store():
    store = RedisStore(REDIS_URL)
    try:
        await store.get("ping")
    except Exception as error:  # noqa: BLE001
        pytest.skip(f"Redis not reachable at {REDIS_URL}: {error}")
    yield store
    await store.close()


async def test_redis_store_lets_exactly_one_of_many_instances_claim_a_callback(redis_store):
    key = f"seen:test-{uuid.uuid4().hex}"
    others = [RedisStore(REDIS_URL) for _ in range(4)]  # as if several Rasa instances got the retry
    try:
        claims = await asyncio.gather(*[s.add_if_absent(key, ttl=30) for s in [redis_store, *others] for _ in range(3)])
        assert claims.count(True) == 1
    finally:
        await redis_store.delete(key)
        for store in others:
            await store.close()


async def test_redis_store_values_expire(redis_store):
    key = f"menu:test-{uuid.uuid4().hex}"
    await redis_store.put(key, '{"1": "/greet"}', ttl=1)
    assert await redis_store.get(key) == '{"1": "/greet"}'
    deadline = asyncio.get_running_loop().time() + 1.5  # Redis drops it when its second is up
    while await redis_store.get(key) is not None:
        assert asyncio.get_running_loop().time() < deadline, "the value outlived its ttl"
        await asyncio.sleep(0.05)
