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
from rasa.shared.core.events import Event, UserUttered
from rasa.shared.utils.common import all_subclasses
from rasa.utils.tensorflow.models import RasaModel
from sqlalchemy import event
from sqlalchemy.engine import Engine

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


@pytest.fixture
def rasa_as_shipped(monkeypatch):
    """What apply_fixes replaces, put back after the test (the fixes are global)."""
    monkeypatch.setattr(RemoteAction, "_validate_action_result", ORIGINAL)
    monkeypatch.setattr(MessageProcessor, "handle_message", MessageProcessor.handle_message)
    monkeypatch.setattr(RemoteAction, "run", RemoteAction.run)
    monkeypatch.setattr(Event, "resolve_by_type", Event.__dict__["resolve_by_type"])
    monkeypatch.setattr(RasaModel, "load", RasaModel.__dict__["load"])
    yield
    if event.contains(Engine, "connect", server.sqlite_write_ahead):
        event.remove(Engine, "connect", server.sqlite_write_ahead)


def test_event_classes_are_resolved_as_rasa_resolves_them():
    resolve = server.resolving_event_types_once(Event.resolve_by_type)
    names = {cls.type_name for cls in all_subclasses(Event)}
    assert len(names) > 20
    for name in names:
        assert resolve(name) is Event.resolve_by_type(name), name
    with pytest.raises(ValueError, match="Unknown event name 'no_such_event'"):
        resolve("no_such_event")
    assert resolve("no_such_event", default=Event) is Event
    assert resolve("topic") is None  # Rasa's backwards compatibility, kept


def test_apply_fixes_replaces_rasas_check_and_queues_turns(rasa_as_shipped):
    original_turn, original_run = MessageProcessor.handle_message, RemoteAction.run
    server.apply_fixes()
    assert RemoteAction._validate_action_result is server.validate_action_result
    assert MessageProcessor.handle_message.__wrapped__ is original_turn
    assert RemoteAction.run.__wrapped__ is original_run
    assert Event.resolve_by_type.__wrapped__ is not None and Event.resolve_by_type("user") is UserUttered


async def test_after_apply_fixes_turns_really_go_through_the_queue(rasa_as_shipped, monkeypatch):
    running, peak = [0], [0]

    async def recording_turn(self, message):
        running[0] += 1
        peak[0] = max(peak[0], running[0])
        await asyncio.sleep(0.01)
        running[0] -= 1
        return message

    monkeypatch.setattr(MessageProcessor, "handle_message", recording_turn)
    monkeypatch.setenv("RASA_TURNS_AT_ONCE", "1")
    server.apply_fixes()
    assert await asyncio.gather(*[MessageProcessor.handle_message(None, i) for i in range(5)]) == list(range(5))
    assert peak[0] == 1


# ------------------------------------------------------------------ turns in arrival order
async def test_turns_are_admitted_in_arrival_order_and_never_more_than_allowed():
    queue, events, running, peak = server.TurnQueue(2), [], [0], [0]

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
    queue, order = server.TurnQueue(1), []
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
    queue, order = server.TurnQueue(1), []
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
    queue, order = server.TurnQueue(1), []

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
    queue = server.TurnQueue(1)

    async def failing() -> None:
        await asyncio.sleep(0.05)
        raise RuntimeError("backend down")

    with pytest.raises(RuntimeError):
        async with queue.turn():
            await queue.stepping_aside_when_slow(failing(), patience=0)
    assert queue.free == 1 and not queue.waiting and not queue.returning


async def test_aside_outside_a_turn_changes_nothing():
    queue = server.TurnQueue(1)
    await queue.stepping_aside_when_slow(asyncio.sleep(0.01), patience=0)  # e.g. a notification's trigger_intent
    assert queue.free == 1 and not queue.waiting and not queue.returning


async def test_a_waiter_that_gives_up_leaves_the_queue_and_passes_no_place_on_twice():
    queue, order = server.TurnQueue(1), []
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


def test_turns_at_once_comes_from_the_environment(monkeypatch):
    monkeypatch.delenv("RASA_TURNS_AT_ONCE", raising=False)
    assert server.turns_at_once() == server.DEFAULT_TURNS_AT_ONCE
    monkeypatch.setenv("RASA_TURNS_AT_ONCE", "3")
    assert server.turns_at_once() == 3
    monkeypatch.setenv("RASA_TURNS_AT_ONCE", "0")
    with pytest.raises(SystemExit, match="RASA_TURNS_AT_ONCE"):
        server.turns_at_once()


def test_a_sqlite_tracker_store_writes_ahead_without_an_fsync_per_turn(tmp_path, rasa_as_shipped):
    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.shared.core.domain import Domain
    from sqlalchemy import text

    server.apply_fixes()
    store = SQLTrackerStore(Domain.empty(), dialect="sqlite", db=str(tmp_path / "trackers.db"))
    with store.engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA synchronous")).scalar() == 1  # NORMAL
