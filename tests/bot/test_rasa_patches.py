"""bot/rasa_patches.py: our fixes to Rasa 3.6 do what Rasa did, only cheaper, and are applied
only to the Rasa they were written for.

The conversation tests run Rasa through bot.server, so every custom action there goes
through the response check too; here: it accepts and refuses exactly what Rasa's own check does."""
from __future__ import annotations

import asyncio
import gc
import socket
import warnings

import pytest
import rasa
from jsonschema import ValidationError
from rasa.core.actions.action import RemoteAction
from rasa.core.channels.channel import CollectingOutputChannel
from rasa.core.processor import MessageProcessor
from rasa.engine.exceptions import GraphRunError
from rasa.engine.graph import GraphComponent, GraphSchema, SchemaNode
from rasa.engine.runner.dask import DaskGraphRunner
from rasa.shared.core.events import Event, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.utils.common import all_subclasses
from rasa.nlu.selectors.response_selector import ResponseSelector
from rasa.shared.nlu.training_data.message import Message
from rasa.utils.endpoints import EndpointConfig
from rasa.utils.tensorflow.models import RasaModel
from sqlalchemy import event
from sqlalchemy.engine import Engine

from bot import past_states, rasa_patches, tracker_history

with warnings.catch_warnings():  # as bot/rasa_patches.py imports it: sanic_cors and pyparsing warn on import
    warnings.simplefilter("ignore")
    import rasa.core.run
    from rasa.core.policies.rule_policy import RulePolicy  # (imports matplotlib, whose pyparsing warns)
from bot.rasa_patches import IncompatibleRasa
from tests.support.conversations import RECORDED, campus_domain

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
assert ORIGINAL is not rasa_patches.validate_action_result
ACTION = RemoteAction("action_list_tasks", None)


@pytest.mark.parametrize("result", VALID)
def test_a_valid_response_passes_both_checks(result):
    assert ORIGINAL(ACTION, result) is True
    assert rasa_patches.validate_action_result(ACTION, result) is True


@pytest.mark.parametrize("result", INVALID)
def test_an_invalid_response_is_refused_with_rasas_message(result):
    with pytest.raises(ValidationError) as rasas:
        ORIGINAL(ACTION, result)
    with pytest.raises(ValidationError) as ours:
        rasa_patches.validate_action_result(ACTION, result)
    assert ours.value.message == rasas.value.message
    assert "Failed to validate Action server response" in ours.value.message


def every_kind_of_event() -> list[dict]:
    """One event of every kind Rasa's schema knows, as Rasa itself writes them."""
    from rasa.shared.utils.schemas.events import EVENT_SCHEMA

    kinds = [alternative["properties"]["event"]["const"] for alternative in EVENT_SCHEMA["oneOf"]]
    written = {"user": {"event": "user", "text": "我有什么待办", "parse_data": {"intent": {"name": "list_tasks",
                                                                                  "confidence": 0.98},
                                                                       "entities": []}, "input_channel": "rest"},
               "action": {"event": "action", "name": "action_list_tasks", "policy": None, "confidence": 1.0},
               "slot": {"event": "slot", "name": "task_ids", "value": [1, 2]},
               "entities": {"event": "entities", "entities": [{"entity": "person", "value": "李明"}]},
               "bot": {"event": "bot", "text": "您有 2 个待办", "data": {}, "metadata": {}}}
    return [dict(written.get(kind, {"event": kind}), timestamp=1764633600.5) for kind in kinds]


def broken_variants(event: dict) -> list[dict]:
    """What an action server could get wrong in one event."""
    variants = [{k: v for k, v in event.items() if k != "event"}, dict(event, event=7), dict(event, timestamp="now"),
                dict(event, metadata=[]), dict(event, event=event["event"] + "s")]
    for key, value in event.items():
        if key not in ("event", "timestamp"):
            variants += [{k: v for k, v in event.items() if k != key}, dict(event, **{key: {"wrong": [1]}})]
    return variants


def test_each_event_is_checked_against_its_own_kind_exactly_as_against_all_kinds():
    """Fix 1's dispatch by ``event`` accepts and refuses what the schema's ``oneOf`` does, for every
    kind Rasa has and for each one broken in every way listed."""
    cases = []
    for event in every_kind_of_event():
        cases += [{"events": [event]}] + [{"events": [event, broken]} for broken in broken_variants(event)]
    cases += [{"events": every_kind_of_event(), "responses": [{"text": "好的"}]}, {"events": [[]]}, {"events": [None]},
              {"events": None}, [], "text", {"responses": "x"}, {}]
    refused = 0
    for result in cases:
        try:
            ORIGINAL(ACTION, result)
            rasa_says = True
        except ValidationError:
            rasa_says, refused = False, refused + 1
        assert rasa_patches.valid_by_event_kind(result) is rasa_says, result
    assert refused > len(cases) // 2  # the broken ones really are broken


def test_a_valid_response_is_not_checked_again_against_every_kind(monkeypatch):
    calls = []
    monkeypatch.setattr(rasa_patches, "action_response_validator", lambda: calls.append(1))
    assert rasa_patches.validate_action_result(ACTION, {"events": every_kind_of_event()}) is True
    assert calls == []


@pytest.fixture
def rasa_as_shipped(monkeypatch):
    """What apply replaces, put back after the test (the fixes are global)."""
    monkeypatch.setattr(RemoteAction, "_validate_action_result", ORIGINAL)
    monkeypatch.setattr(MessageProcessor, "handle_message", MessageProcessor.handle_message)
    monkeypatch.setattr(RemoteAction, "run", RemoteAction.run)
    monkeypatch.setattr(Event, "resolve_by_type", Event.__dict__["resolve_by_type"])
    monkeypatch.setattr(RasaModel, "load", RasaModel.__dict__["load"])
    monkeypatch.setattr(DialogueStateTracker, "past_states", DialogueStateTracker.past_states)
    monkeypatch.setattr(ResponseSelector, "process", ResponseSelector.process)
    monkeypatch.setattr(EndpointConfig, "session", EndpointConfig.session)
    monkeypatch.setattr(rasa.core.run, "close_resources", rasa.core.run.close_resources)
    monkeypatch.setattr(rasa.core.run, "load_agent_on_start", rasa.core.run.load_agent_on_start)
    monkeypatch.setattr(RasaModel, "_rasa_predict", RasaModel._rasa_predict)
    monkeypatch.setattr(RemoteAction, "_action_call_format", RemoteAction._action_call_format)
    monkeypatch.setattr(DaskGraphRunner, "run", DaskGraphRunner.run)
    monkeypatch.setattr(DialogueStateTracker, "applied_events", DialogueStateTracker.applied_events)
    monkeypatch.setattr(DialogueStateTracker, "copy", DialogueStateTracker.copy)
    monkeypatch.setattr(RulePolicy, "_get_possible_keys", RulePolicy._get_possible_keys)
    yield
    if event.contains(Engine, "connect", rasa_patches.sqlite_write_ahead):
        event.remove(Engine, "connect", rasa_patches.sqlite_write_ahead)


class Recorded:
    """A graph node as DaskGraphRunner holds it: called with what its needs produced, returning
    (its name, its output); here its output records what it was given."""

    def __init__(self, name: str, calls: list, fail: bool = False):
        self.name, self.calls, self.fail = name, calls, fail

    def __call__(self, *received):
        self.calls.append(self.name)
        if self.fail:
            raise RuntimeError("the component failed")
        return self.name, (self.name, received)


def small_graph(calls: list, failing: str = "") -> DaskGraphRunner:
    """a ← b ← c and a ← d (d needs an input, and a name nothing provides), e unused by a."""
    def node(needs: dict) -> SchemaNode:
        return SchemaNode(needs=needs, uses=GraphComponent, constructor_name="create", fn="process", config={})

    schema = GraphSchema({"a": node({"x": "b", "y": "d"}), "b": node({"x": "c"}), "c": node({}),
                          "d": node({"x": "__message__", "y": "nothing_provides"}), "e": node({"x": "c"})})
    runner = DaskGraphRunner.__new__(DaskGraphRunner)  # as Rasa makes one, without loading components
    runner._graph_schema, runner._execution_context = schema, None
    runner._instantiated_nodes = {name: Recorded(name, calls, fail=name == failing) for name in schema.nodes}
    return runner


@pytest.mark.parametrize("inputs, targets", [({"__message__": ["你好"]}, ["a"]), ({"__message__": ["你好"]}, ["a", "e"]),
                                             ({"__message__": "你好", "b": 1}, ["a"]), ({}, ["b"])])
def test_graph_nodes_run_in_order_give_what_dask_gives(inputs, targets):
    dasks_calls, our_calls = [], []
    rasas = DaskGraphRunner.run(small_graph(dasks_calls), dict(inputs), targets)
    runner = small_graph(our_calls)
    for _ in range(2):  # the second run from the kept plan
        our_calls.clear()
        assert rasa_patches.running_nodes_in_order(runner, dict(inputs), targets) == rasas
        assert sorted(our_calls) == sorted(dasks_calls)
    for name in our_calls:  # each after everything it needs
        needs = runner._graph_schema.nodes[name].needs.values()
        assert all(our_calls.index(n) < our_calls.index(name) for n in needs if n in our_calls), our_calls


def test_graph_nodes_in_order_fail_as_rasas_runner_fails():
    for run in (DaskGraphRunner.run, rasa_patches.running_nodes_in_order):
        with pytest.raises(GraphRunError, match="Error running runner"):
            run(small_graph([], failing="c"), {"__message__": []}, ["a"])
        with pytest.raises(GraphRunError, match="clashes with a node name"):
            run(small_graph([]), {"__message__": "b"}, ["a"])


def test_event_classes_are_resolved_as_rasa_resolves_them():
    resolve = rasa_patches.resolving_event_types_once(Event.resolve_by_type)
    names = {cls.type_name for cls in all_subclasses(Event)}
    assert len(names) > 20
    for name in names:
        assert resolve(name) is Event.resolve_by_type(name), name
    with pytest.raises(ValueError, match="Unknown event name 'no_such_event'"):
        resolve("no_such_event")
    assert resolve("no_such_event", default=Event) is Event
    assert resolve("topic") is None  # Rasa's backwards compatibility, kept


def test_apply_replaces_rasas_check_and_queues_turns(rasa_as_shipped):
    original_turn, original_run = MessageProcessor.handle_message, RemoteAction.run
    original_rules = RulePolicy._get_possible_keys
    rasa_patches.apply(turns_at_once=2)
    assert RemoteAction._validate_action_result is rasa_patches.validate_action_result
    assert MessageProcessor.handle_message.__wrapped__ is original_turn
    assert RemoteAction.run.__wrapped__ is original_run
    assert Event.resolve_by_type.__wrapped__ is not None and Event.resolve_by_type("user") is UserUttered
    assert DialogueStateTracker.past_states is past_states.past_states
    assert DaskGraphRunner.run is rasa_patches.running_nodes_in_order
    assert DialogueStateTracker.applied_events is tracker_history.applied_events
    assert DialogueStateTracker.copy is tracker_history.copied_without_replay
    assert RulePolicy._get_possible_keys.__wrapped__ is original_rules


async def test_what_loading_the_model_left_is_frozen_out_of_the_collector(rasa_as_shipped, monkeypatch):
    kept = []

    async def loading(*args):
        kept.extend([{"weights": i} for i in range(10_000)])  # long-lived, as a loaded model's objects
        return "agent"

    monkeypatch.setattr(rasa.core.run, "load_agent_on_start", loading)
    rasa_patches.apply(turns_at_once=2)
    gc.unfreeze()
    try:
        assert await rasa.core.run.load_agent_on_start("model", None, None, None, None) == "agent"
        assert gc.get_freeze_count() >= len(kept)
    finally:
        gc.unfreeze()


async def test_after_apply_turns_really_go_through_the_queue(rasa_as_shipped, monkeypatch):
    running, peak = [0], [0]

    async def recording_turn(self, message):
        running[0] += 1
        peak[0] = max(peak[0], running[0])
        await asyncio.sleep(0.01)
        running[0] -= 1
        return message

    monkeypatch.setattr(MessageProcessor, "handle_message", recording_turn)
    queue = rasa_patches.apply(turns_at_once=1)
    assert await asyncio.gather(*[MessageProcessor.handle_message(None, i) for i in range(5)]) == list(range(5))
    assert peak[0] == 1 and queue.free == 1


def test_a_sqlite_tracker_store_writes_ahead_without_an_fsync_per_turn(tmp_path, rasa_as_shipped):
    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.shared.core.domain import Domain
    from sqlalchemy import text

    rasa_patches.apply(turns_at_once=2)
    store = SQLTrackerStore(Domain.empty(), dialect="sqlite", db=str(tmp_path / "trackers.db"))
    with store.engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA synchronous")).scalar() == 1  # NORMAL


def said(intent: str, confidence: float, **others: float) -> Message:
    """A message as DIET leaves it for the ResponseSelector."""
    ranking = [{"name": intent, "confidence": confidence}] + [{"name": n, "confidence": c} for n, c in others.items()]
    return Message(data={"text": "…", "intent": {"name": intent, "confidence": confidence}, "intent_ranking": ranking})


@pytest.mark.parametrize("message, asked", [
    (said("faq", 0.4, greet=0.3), True),                  # the selector's own intent, however unsure
    (said("my_tasks", 0.99, faq=0.005), False),           # sure of another: skipped
    (said("my_tasks", 0.65, faq=0.02), True),             # not sure enough (the fallback may follow)
    (said("my_tasks", 0.85, faq=0.12), True),             # faq still has a real chance
    (Message(data={"text": "…"}), True),                  # no intent (DIET not run): as Rasa
])
def test_the_response_selector_runs_where_its_answer_may_be_used(message, asked):
    assert rasa_patches.may_be_a_question_for(message, "faq") is asked
    assert rasa_patches.may_be_a_question_for(message, None)  # a selector over every intent always runs


def test_the_selector_gets_only_possible_questions_and_every_message_comes_back():
    given = []
    process = rasa_patches.selecting_only_possible_questions(lambda self, messages: given.extend(messages))
    selector = type("Selector", (), {"retrieval_intent": "faq"})()
    messages = [said("greet", 0.98, faq=0.01), said("faq", 0.9), said("thank", 0.5, faq=0.3)]
    assert process(selector, messages) is messages
    assert given == [messages[1], messages[2]]
    given.clear()
    assert process(selector, [said("greet", 0.98, faq=0.01)]) and given == []


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def test_action_calls_reuse_one_connection_and_stopping_closes_it(rasa_as_shipped):
    from aiohttp import web

    peers = []

    async def webhook(request: web.Request) -> web.Response:
        peers.append(request.transport.get_extra_info("peername")[1])
        assert request.headers["Authorization"] == "Bearer t0ken"
        return web.json_response({"events": [], "responses": []})

    app = web.Application()
    app.router.add_post("/webhook", webhook)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        endpoint = EndpointConfig(f"http://127.0.0.1:{port}/webhook", headers={"Authorization": "Bearer t0ken"})
        await endpoint.request(json={})
        await endpoint.request(json={})
        assert peers[0] != peers[1]  # Rasa as shipped: a new connection per call
        rasa_patches.apply(turns_at_once=2)
        for _ in range(3):
            assert await endpoint.request(json={}) == {"events": [], "responses": []}
        assert len(set(peers[2:])) == 1  # one kept connection
        kept = endpoint.__dict__["_campus_session"][1]
        await rasa.core.run.close_resources(type("App", (), {"ctx": object()})(), asyncio.get_running_loop())
        assert kept.closed
    finally:
        await runner.cleanup()


# ------------------------------------------------------------------ the guard
def test_an_action_call_carries_past_messages_without_their_rankings():
    domain = campus_domain()
    action = RemoteAction("action_list_tasks", None)
    call = rasa_patches.sending_what_actions_read(RemoteAction._action_call_format)
    compared = 0
    for name, state in RECORDED.items():
        events = [Event.from_parameters(e) for e in state["events"]]
        tracker = DialogueStateTracker.from_events(name, events, slots=domain.slots)
        rasas, ours = RemoteAction._action_call_format(action, tracker, domain), call(action, tracker, domain)
        assert ours["tracker"]["latest_message"] == rasas["tracker"]["latest_message"]  # whole, rankings too
        kept = [e for e in rasas["tracker"]["events"] if e["event"] != "user_featurization"]
        assert len(ours["tracker"]["events"]) == len(kept)
        for mine, theirs in zip(ours["tracker"]["events"], kept):
            if theirs["event"] == "user":
                assert {k: v for k, v in theirs["parse_data"].items()
                        if k not in ("intent_ranking", "response_selector", "text_tokens")} == mine["parse_data"]
                assert {**mine, "parse_data": None} == {**theirs, "parse_data": None}
                compared += 1
            else:
                assert mine == theirs
        # the tracker itself keeps everything
        assert RemoteAction._action_call_format(action, tracker, domain) == rasas
    assert compared > 5
    sizes = [len(rasa_patches.ujson_dumps(c(action, tracker, domain)))
             for c in (RemoteAction._action_call_format, call)]
    assert sizes[1] < sizes[0]


def test_the_installed_rasa_is_the_one_the_fixes_were_written_for():
    rasa_patches.check_rasa()  # raises otherwise
    assert rasa.__version__.startswith(rasa_patches.SUPPORTED_RASA + ".")


@pytest.mark.parametrize("version", ["3.7.0", "3.5.17", "4.0.0", "3.60.1"])
def test_another_rasa_version_is_refused_before_anything_is_patched(version, rasa_as_shipped, monkeypatch):
    monkeypatch.setattr(rasa, "__version__", version)
    before = MessageProcessor.handle_message
    with pytest.raises(IncompatibleRasa) as refusal:
        rasa_patches.apply(turns_at_once=2)
    assert f"Rasa {version} is installed" in str(refusal.value)
    assert "requirements/rasa.txt" in str(refusal.value)  # what to do
    assert MessageProcessor.handle_message is before
    assert RemoteAction._validate_action_result is ORIGINAL


@pytest.mark.parametrize("owner, name", [(MessageProcessor, "handle_message"), (RemoteAction, "run"),
                                         (RemoteAction, "_validate_action_result"),
                                         (CollectingOutputChannel, "_persist_message")])
def test_a_rasa_without_a_patched_name_is_refused_before_anything_is_patched(owner, name, rasa_as_shipped,
                                                                           monkeypatch):
    monkeypatch.delattr(owner, name)
    with pytest.raises(IncompatibleRasa) as refusal:
        rasa_patches.apply(turns_at_once=2)
    assert f"{owner.__name__}.{name}" in str(refusal.value)
    assert "the fixes would not take effect" in str(refusal.value)
    assert RemoteAction.__dict__.get("_validate_action_result") is not rasa_patches.validate_action_result
    assert not event.contains(Engine, "connect", rasa_patches.sqlite_write_ahead)


def test_the_guard_finds_what_exists_and_misses_what_does_not():
    assert all(rasa_patches._exists(name) for name in rasa_patches.RELIED_ON)
    assert not rasa_patches._exists("rasa.core.processor:MessageProcessor.no_such_method")
    assert not rasa_patches._exists("rasa.no_such_module:anything")


def test_a_tracker_with_an_attribute_the_copy_does_not_know_is_refused_before_anything_is_patched(
        rasa_as_shipped, monkeypatch):
    rasas_init = DialogueStateTracker.__init__

    def init_with_more_state(self, *args, **kwargs):
        rasas_init(self, *args, **kwargs)
        self.latest_reminder = None  # state a replay might set, that fix 14 would not copy

    monkeypatch.setattr(DialogueStateTracker, "__init__", init_with_more_state)
    with pytest.raises(IncompatibleRasa) as refusal:
        rasa_patches.apply(turns_at_once=2)
    assert "latest_reminder" in str(refusal.value) and "bot/tracker_history.py" in str(refusal.value)
    assert DialogueStateTracker.copy is not tracker_history.copied_without_replay
    assert RemoteAction._validate_action_result is ORIGINAL
