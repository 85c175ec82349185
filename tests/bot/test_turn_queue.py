"""bot/turn_queue.py: user turns admitted in arrival order, a few at a time; a slow custom
action gives its place up and comes back ahead of turns not yet started."""
from __future__ import annotations

import asyncio

import pytest

from bot.turn_queue import TurnQueue


async def test_turns_are_admitted_in_arrival_order_and_never_more_than_allowed():
    queue, events, running, peak = TurnQueue(2), [], [0], [0]

    async def turn(name: str) -> str:
        async with queue.turn():
            running[0] += 1
            peak[0] = max(peak[0], running[0])
            events.append(name)
            await asyncio.sleep(0.01)  # NLU and policies, here a pause
            running[0] -= 1
            return name

    results = await asyncio.gather(*[turn(f"t{i}") for i in range(8)])
    assert results == [f"t{i}" for i in range(8)]
    assert events == [f"t{i}" for i in range(8)] and peak[0] == 2
    assert queue.free == 2 and not queue.waiting and not queue.returning


async def test_a_place_that_frees_up_goes_to_the_first_waiter_not_to_a_newcomer():
    queue, order = TurnQueue(1), []
    release_first = asyncio.Event()

    async def turn(name: str, wait: asyncio.Event | None = None) -> None:
        async with queue.turn():
            order.append(name)
            if wait is not None:
                await wait.wait()

    first = asyncio.create_task(turn("first", release_first))
    await asyncio.sleep(0)
    waiter = asyncio.create_task(turn("waiter"))
    await asyncio.sleep(0)
    release_first.set()
    await first  # the place is free now; the waiter has not run yet …
    newcomer = asyncio.create_task(turn("newcomer"))  # … and a newcomer arrives
    await asyncio.gather(waiter, newcomer)
    assert order == ["first", "waiter", "newcomer"]


async def test_a_turn_steps_aside_during_an_action_and_comes_back_before_turns_not_started():
    queue, order = TurnQueue(1), []
    action_done = asyncio.Event()

    async def with_action() -> None:
        async with queue.turn():
            order.append("action turn: starts")
            # the action server and the backend at work, slowly
            await queue.stepping_aside_when_slow(action_done.wait(), patience=0)
            order.append("action turn: ends")

    async def plain(name: str, hold: asyncio.Event | None = None) -> None:
        async with queue.turn():
            order.append(name)
            if hold is not None:
                await hold.wait()

    action_turn = asyncio.create_task(with_action())
    await asyncio.sleep(0)
    await asyncio.wait_for(plain("plain 1"), 5)  # runs while the action is out: a slow backend holds no place
    plain_2_done = asyncio.Event()
    others = [asyncio.create_task(plain("plain 2", plain_2_done)), asyncio.create_task(plain("plain 3"))]
    await asyncio.sleep(0)
    action_done.set()
    for _ in range(3):
        await asyncio.sleep(0)
    assert (len(queue.returning), len(queue.waiting)) == (1, 1)  # the action turn is served before plain 3
    plain_2_done.set()
    await asyncio.gather(action_turn, *others)
    assert order == ["action turn: starts", "plain 1", "plain 2", "action turn: ends", "plain 3"]
    assert queue.free == 1 and not queue.waiting and not queue.returning


async def test_a_quick_action_keeps_its_place_and_a_slow_one_gives_it_up():
    queue, order = TurnQueue(1), []

    async def action(seconds: float) -> str:
        await asyncio.sleep(seconds)
        order.append(f"action {seconds}")
        return "events"

    async def with_action(seconds: float) -> str:
        async with queue.turn():
            return await queue.stepping_aside_when_slow(action(seconds), patience=0.1)

    async def plain() -> None:
        async with queue.turn():
            order.append("plain")

    quick = asyncio.create_task(with_action(0.01))
    await asyncio.sleep(0)
    assert await asyncio.gather(quick, plain()) == ["events", None]
    assert order == ["action 0.01", "plain"]  # the plain turn waited: the place was kept
    order.clear()
    slow = asyncio.create_task(with_action(0.5))
    await asyncio.sleep(0)
    assert await asyncio.gather(slow, plain()) == ["events", None]
    assert order == ["plain", "action 0.5"]  # the plain turn ran while the slow action was out
    assert queue.free == 1 and not queue.waiting and not queue.returning


async def test_a_slow_action_that_fails_after_stepping_aside_gives_no_place_back_twice():
    queue = TurnQueue(1)

    async def failing() -> None:
        await asyncio.sleep(0.05)
        raise RuntimeError("backend down")

    with pytest.raises(RuntimeError):
        async with queue.turn():
            await queue.stepping_aside_when_slow(failing(), patience=0)
    assert queue.free == 1 and not queue.waiting and not queue.returning


async def test_aside_outside_a_turn_changes_nothing():
    queue = TurnQueue(1)
    await queue.stepping_aside_when_slow(asyncio.sleep(0.01), patience=0)  # e.g. a notification's trigger_intent
    assert queue.free == 1 and not queue.waiting and not queue.returning


async def test_a_waiter_that_gives_up_leaves_the_queue_and_passes_no_place_on_twice():
    queue, order = TurnQueue(1), []
    gate = asyncio.Event()

    async def turn(name: str) -> None:
        async with queue.turn():
            order.append(name)
            await gate.wait()

    first = asyncio.create_task(turn("first"))
    await asyncio.sleep(0)
    quitter = asyncio.create_task(turn("quitter"))
    last = asyncio.create_task(turn("last"))
    await asyncio.sleep(0)
    quitter.cancel()
    await asyncio.sleep(0)
    assert len(queue.waiting) == 1
    gate.set()
    await asyncio.gather(first, last)
    assert quitter.cancelled() and order == ["first", "last"]
    assert queue.free == 1 and not queue.waiting and not queue.returning
