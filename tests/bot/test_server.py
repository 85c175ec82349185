"""bot/server.py: Rasa's check of custom action responses with the validator built once, and
user turns admitted in arrival order.

The conversation tests run Rasa through bot.server, so every custom action there goes
through this check too; here: it accepts and refuses exactly what Rasa's own check does."""
from __future__ import annotations

import asyncio

import pytest
from jsonschema import ValidationError
from rasa.core.actions.action import RemoteAction
from rasa.core.processor import MessageProcessor

from bot import server

VALID = [
    {"events": [{"event": "slot", "name": "task_ids", "value": [1, 2]}],
     "responses": [{"text": "您有 2 个待办", "buttons": [{"title": "看第1个", "payload": "/task_detail"}]}]},
    {"events": [], "responses": []},
    {"events": [{"event": "active_loop", "name": None}, {"event": "followup", "name": "matter_form"}]},
]
INVALID = [
    {"events": "not a list"},
    {"events": [{"event": "no_such_event"}]},
    {"events": [{"event": "slot", "value": 1}]},  # a slot event without its name
    {"responses": [["not", "an", "object"]]},
]


ORIGINAL = RemoteAction._validate_action_result  # Rasa's own (nothing in the tests applies the fix globally)
assert ORIGINAL is not server.validate_action_result
ACTION = RemoteAction("action_list_tasks", None)


@pytest.mark.parametrize("result", VALID)
def test_a_valid_response_passes_both_checks(result):
    assert ORIGINAL(ACTION, result) is True
    assert server.validate_action_result(ACTION, result) is True


@pytest.mark.parametrize("result", INVALID)
def test_an_invalid_response_is_refused_with_rasas_message(result):
    with pytest.raises(ValidationError) as rasas:
        ORIGINAL(ACTION, result)
    with pytest.raises(ValidationError) as ours:
        server.validate_action_result(ACTION, result)
    assert ours.value.message == rasas.value.message
    assert "Failed to validate Action server response" in ours.value.message


def test_apply_fixes_replaces_rasas_check_and_queues_turns(monkeypatch):
    monkeypatch.setattr(RemoteAction, "_validate_action_result", ORIGINAL)
    monkeypatch.setattr(MessageProcessor, "handle_message", MessageProcessor.handle_message)
    original_turn = MessageProcessor.handle_message
    server.apply_fixes()
    assert RemoteAction._validate_action_result is server.validate_action_result
    assert MessageProcessor.handle_message.__wrapped__ is original_turn


# ------------------------------------------------------------------ turns in arrival order
async def test_turns_are_admitted_in_arrival_order_and_never_more_than_allowed():
    events, running, peak = [], [0], [0]

    async def turn(name: str) -> str:
        running[0] += 1
        peak[0] = max(peak[0], running[0])
        events.append(name)
        await asyncio.sleep(0.01)  # a turn waiting for the action server
        running[0] -= 1
        return name

    handle = server.admitted_in_order(turn, at_once=2)
    results = await asyncio.gather(*[handle(f"t{i}") for i in range(8)])
    assert results == [f"t{i}" for i in range(8)]
    assert events == [f"t{i}" for i in range(8)] and peak[0] == 2


async def test_a_place_that_frees_up_goes_to_the_first_waiter_not_to_a_newcomer():
    queue, order = server.InOrder(1), []
    release_first = asyncio.Event()

    async def holder(name: str, wait: asyncio.Event | None = None) -> None:
        async with queue:
            order.append(name)
            if wait is not None:
                await wait.wait()

    first = asyncio.create_task(holder("first", release_first))
    await asyncio.sleep(0)
    waiter = asyncio.create_task(holder("waiter"))
    await asyncio.sleep(0)
    release_first.set()
    await first  # the place is free now; the waiter has not run yet …
    newcomer = asyncio.create_task(holder("newcomer"))  # … and a newcomer arrives
    await asyncio.gather(waiter, newcomer)
    assert order == ["first", "waiter", "newcomer"]


async def test_a_waiter_that_gives_up_leaves_the_queue_and_passes_no_place_on_twice():
    queue, order = server.InOrder(1), []
    gate = asyncio.Event()

    async def holder(name: str) -> None:
        async with queue:
            order.append(name)
            await gate.wait()

    first = asyncio.create_task(holder("first"))
    await asyncio.sleep(0)
    quitter = asyncio.create_task(holder("quitter"))
    last = asyncio.create_task(holder("last"))
    await asyncio.sleep(0)
    quitter.cancel()
    await asyncio.sleep(0)
    assert len(queue.waiting) == 1
    gate.set()
    await asyncio.gather(first, last)
    assert quitter.cancelled() and order == ["first", "last"]
    assert queue.free == 1 and not queue.waiting


def test_turns_at_once_comes_from_the_environment(monkeypatch):
    monkeypatch.delenv("RASA_TURNS_AT_ONCE", raising=False)
    assert server.turns_at_once() == server.DEFAULT_TURNS_AT_ONCE
    monkeypatch.setenv("RASA_TURNS_AT_ONCE", "3")
    assert server.turns_at_once() == 3
    monkeypatch.setenv("RASA_TURNS_AT_ONCE", "0")
    with pytest.raises(SystemExit, match="RASA_TURNS_AT_ONCE"):
        server.turns_at_once()
