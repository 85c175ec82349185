"""bot/lock_store.py against the real Redis: tickets drawn at once by several processes are
never the same, a conversation is held by one process at a time in ticket order, a killed
holder frees it after the lifetime, a slow live holder is never overtaken."""
from __future__ import annotations

import asyncio
import multiprocessing
import os
import signal
import time

import pytest
import redis
from rasa.core.lock_store import LockError, LockStore
from rasa.utils.endpoints import EndpointConfig

from bot.lock_store import AtomicRedisLockStore

from tests.support.redis_keys import REDIS_URL, own_prefix

FORK = multiprocessing.get_context("fork")  # the children need nothing but this module's imports


@pytest.fixture()
def prefix():
    yield from own_prefix()


def store(prefix: str, **settings) -> AtomicRedisLockStore:
    return AtomicRedisLockStore(url=REDIS_URL, key_prefix=prefix, **settings)


def keys_left(prefix: str) -> list[bytes]:
    return list(redis.Redis.from_url(REDIS_URL).scan_iter(f"{prefix}:*"))


# ------------------------------------------------------------ children (forked processes)
def draw_tickets(prefix: str, conversation: str, count: int, start, out) -> None:
    own = store(prefix, lifetime_seconds=600)
    start.wait()
    out.put([own.issue_ticket(conversation) for _ in range(count)])


def take_turns(prefix: str, conversation: str, turns: int, counter_key: str, start) -> None:
    """Each turn: read a shared number, give way to others, write it + 1 (lost updates show a race)."""
    own, client = store(prefix), redis.Redis.from_url(REDIS_URL)

    async def one_turn() -> None:
        async with own.lock(conversation):
            value = int(client.get(counter_key) or 0)
            await asyncio.sleep(0.002)
            client.set(counter_key, value + 1)

    async def all_turns() -> None:
        await asyncio.gather(*(one_turn() for _ in range(turns)))

    start.wait()
    asyncio.run(all_turns())


def hold_for_ever(prefix: str, conversation: str, holding) -> None:
    own = store(prefix, lifetime_seconds=1, poll_seconds=0.01)

    async def hold() -> None:
        async with own.lock(conversation):
            holding.set()
            await asyncio.sleep(3600)

    asyncio.run(hold())


def run_children(target, args_for, count: int, *more) -> None:
    start = FORK.Event()
    children = [FORK.Process(target=target, args=(*args_for(i), *more, start)) for i in range(count)]
    for child in children:
        child.start()
    start.set()
    for child in children:
        child.join(120)
        assert child.exitcode == 0


# ------------------------------------------------------------ tests
def test_rasa_loads_it_from_the_endpoints_type(prefix):
    config = EndpointConfig(url=REDIS_URL, type="bot.lock_store.AtomicRedisLockStore", key_prefix=prefix,
                            lifetime_seconds=30, poll_seconds=0.02)
    loaded = LockStore.create(config)
    assert isinstance(loaded, AtomicRedisLockStore)
    assert (loaded.lifetime, loaded.poll, loaded.key_prefix) == (30.0, 0.02, f"{prefix}:lock:")


@pytest.mark.parametrize("settings, message", [
    ({"url": "127.0.0.1"}, "redis:// URL"),
    ({"key_prefix": "a b"}, "key_prefix"),
    ({"lifetime_seconds": 0.5}, "lifetime_seconds"),
    ({"poll_seconds": 10}, "poll_seconds"),
])
def test_bad_settings_are_refused_with_what_is_wrong(settings, message):
    with pytest.raises(ValueError, match=message):
        AtomicRedisLockStore(**{"url": REDIS_URL, **settings})


def test_tickets_drawn_at_once_by_several_processes_are_never_the_same(prefix):
    out = FORK.Queue()
    processes, each = 6, 300
    start = FORK.Event()
    children = [FORK.Process(target=draw_tickets, args=(prefix, "web:t2001", each, start, out))
                for _ in range(processes)]
    for child in children:
        child.start()
    start.set()
    drawn = [n for _ in children for n in out.get(timeout=120)]
    for child in children:
        child.join(30)
    assert len(drawn) == processes * each
    assert sorted(drawn) == list(range(1, processes * each + 1))  # all distinct, none skipped


def test_one_process_at_a_time_holds_a_conversation(prefix):
    counter = f"{prefix}:shared-number"
    processes, turns = 4, 25
    run_children(take_turns, lambda i: (prefix, "web:t2002", turns), processes, counter)
    assert int(redis.Redis.from_url(REDIS_URL).get(counter)) == processes * turns  # no update lost
    redis.Redis.from_url(REDIS_URL).delete(counter)
    assert keys_left(prefix) == []


def test_turns_are_served_in_ticket_order_and_the_lock_is_gone_after(prefix):
    own, served = store(prefix), []

    async def turn(i: int) -> None:
        async with own.lock("web:t2003"):
            served.append(i)
            await asyncio.sleep(0.01)

    async def main() -> None:
        tasks = []
        for i in range(10):  # each draws its ticket before the next task starts
            tasks.append(asyncio.ensure_future(turn(i)))
            await asyncio.sleep(0.001)
        await asyncio.gather(*tasks)

    asyncio.run(main())
    assert served == list(range(10))
    assert own.get_lock("web:t2003") is None and keys_left(prefix) == []


def test_a_killed_holder_frees_the_conversation_after_the_lifetime(prefix):
    holding = FORK.Event()
    holder = FORK.Process(target=hold_for_ever, args=(prefix, "web:t2004", holding))
    holder.start()
    assert holding.wait(30)
    os.kill(holder.pid, signal.SIGKILL)
    holder.join()
    killed_at = time.monotonic()
    # 3 s, not 1: the waiter's own ticket lives as long, and a busy 2-core machine (CI with a model
    # training or browsers alongside) stalled this process over 1 s once, expiring it.
    own = store(prefix, lifetime_seconds=3, poll_seconds=0.01)

    async def next_turn() -> float:
        async with own.lock("web:t2004"):
            return time.monotonic() - killed_at

    waited = asyncio.run(next_turn())
    assert 0.3 < waited < 12  # the dead ticket had up to its 1 s left (killed just after it was issued); then dropped


def test_a_slow_holder_that_is_alive_is_not_overtaken(prefix):
    own, order = store(prefix, lifetime_seconds=2, poll_seconds=0.01), []

    async def slow() -> None:
        async with own.lock("web:t2005"):
            order.append("slow in")
            await asyncio.sleep(4.5)  # over 2 lifetimes: the holder renews its ticket meanwhile
            order.append("slow out")

    async def next_turn() -> None:
        await asyncio.sleep(0.1)
        async with own.lock("web:t2005"):
            order.append("next in")

    async def main() -> None:
        await asyncio.gather(slow(), next_turn())

    asyncio.run(main())
    assert order == ["slow in", "slow out", "next in"]


def test_a_waiter_whose_ticket_expired_gets_a_lock_error(prefix):
    own = store(prefix, lifetime_seconds=1, poll_seconds=0.2)
    ticket_holder = own.issue_ticket("web:t2006")
    waiting = own.issue_ticket("web:t2006")
    time.sleep(1.2)  # this process never looked: both tickets expire

    async def wait() -> None:
        await own._wait_for_turn("web:t2006", waiting)

    with pytest.raises(LockError, match="expired"):
        asyncio.run(wait())
    own.finish_serving("web:t2006", ticket_holder)
