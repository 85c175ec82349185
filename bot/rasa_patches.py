"""Our fixes to Rasa 3.6's internals, applied by bot/server.py before Rasa starts — only to the
Rasa they were written against.

Each fix replaces a private part of Rasa. A Rasa that moved or renamed one would silently run
unfixed (or half fixed), so ``apply`` first checks that Rasa is 3.6.x and that every name below
exists, and raises ``IncompatibleRasa`` (the server refuses to start, saying what to do) before
it changes anything.

1. Custom action responses are checked by a validator built once. Rasa checks each
   response with ``jsonschema.validate``, which first re-validates Rasa's constant schema
   against the JSON-Schema metaschema: ~17 ms of CPU on the event loop per action call,
   more than the action server and the backend take together. Each event is then checked
   against the one kind its ``event`` names, not against all 23 of the schema's ``oneOf``
   (each kind fixes ``event`` to a constant of its own, so no other could match): ≈1 ms
   less per backend turn. Every response is still validated; one that fails is checked
   again Rasa's way, for Rasa's own error message.
2. User turns go through one ``TurnQueue`` (bot/turn_queue.py): first come, first served, at
   most RASA_TURNS_AT_ONCE working at a time; a custom action still running after
   STEP_ASIDE_AFTER_SECONDS gives its place up and its turn comes back ahead of turns not yet
   started. Waiting for the conversation's own lock (a second message of the same sender)
   happens before the queue.
3. Events are deserialised without a search of Event's whole class tree for each one.
   Rasa rebuilds every turn's tracker from stored events, and ``Event.resolve_by_type``
   walked all subclasses (recursively, with ``inspect.isabstract``) per event: about 6 % of
   a turn's CPU with conversations of a few dozen events. The classes are mapped by type
   name once; a name not in the map (a class imported later) falls back to Rasa's search.
4. Models are loaded for prediction only. To give a TensorFlow model its variables, Rasa
   trains it for one step on an example before loading the weights (``RasaModel.load``),
   which builds the training graph, the gradients and Adam's slots, and keeps them: about
   380 MB of the server's resident memory. Here the variables come from one prediction on
   the example Rasa keeps for warming up, with the weights restored as they are created, and
   every variable the prediction uses must have been restored from the checkpoint (else
   loading fails). Fine-tuning still loads Rasa's way.
5. A SQLite tracker store (development, tests, a single machine) writes ahead (WAL) and does
   not wait for the disk on every commit (synchronous=NORMAL): Rasa's tracker store is
   synchronous, so each turn's commit held the event loop, every other turn with it, for an
   fsync. A crash of Rasa loses nothing; a power cut may lose the last turns of conversations
   (the backend, not the tracker, is the record of applications and decisions). PostgreSQL
   is untouched.
6. A tracker's past states are carried on from the previous call instead of replayed from the
   first event for every policy and every predicted action (bot/past_states.py: ≈12 % of a
   turn's CPU at 50 users, growing with the conversation); the same states as Rasa's, checked
   against it by tests/bot/test_past_states.py.
7. The FAQ's ResponseSelector runs only for messages that may be a question for it. It ran for
   every message (≈18 % of Rasa's CPU per turn), though its answer is used only when the intent
   is ``faq`` — or for the guess the help desk sees next to a misunderstood one. Skipped when
   DIET is sure of another intent (≥ ``SURE_OF_ANOTHER_INTENT``) and gives ``faq`` less than
   ``FAQ_UNLIKELY_BELOW``: never when the fallback could follow (its threshold is 0.5, its
   ambiguity margin 0.1). On the held-out split: 676 of 753 other messages skipped, not one
   question of the FAQ among them.
8. Calls to the action server (and other endpoints) reuse their connections. Rasa opened a new
   aiohttp session, and a new TCP connection, for every action it ran (≈4 % of its CPU and a
   connection set-up in every backend turn's time). Idle connections are dropped after
   ``KEEPALIVE_SECONDS``, before the action server's Sanic drops them (its 5 s keep-alive), and
   closed with Rasa's other resources when the server stops. Bodies are encoded with ujson
   (Sanic's own encoder): a conversation's tracker in ≈0.6 ms where ``json.dumps`` took ≈1.5.

9. What loading the model leaves in memory is frozen out of the garbage collector
   (``gc.freeze`` once the agent has loaded). Rasa holds millions of long-lived objects after
   loading (TensorFlow, the models, the domain): a full collection, which Python starts now and
   then as new objects outlive younger ones, walked them all and held the event loop — every
   conversation with it — for ≈600 ms on this machine (measured with ``gc.callbacks`` during
   the bot benchmark); after the freeze a full collection takes ≈13 ms.
10. Predictions call the model's traced TensorFlow function directly. Rasa calls it through
   ``tf.function``, which matches every input against the function's signature again on every
   call: ≈2 ms of each model's ≈10 ms per message on this machine (DIET for every message, the
   FAQ's ResponseSelector for questions). The first prediction traces it Rasa's way; later ones
   convert the inputs and call the traced function, the same graph; an input of another count
   or dtype goes Rasa's way. tests/bot/test_model_loading.py checks the messages are understood
   exactly as by Rasa's own loading and prediction.
11. An action call carries the conversation without what no action reads: the ranking of every
   intent and of every FAQ answer, and the token offsets, in each past user message (the
   latest message keeps its whole parse, which the FAQ's action reads), and the
   ``user_featurization`` markers. About a third of a 20-turn conversation's JSON, encoded by
   Rasa and decoded by the action server in every backend turn.
12. The model's graphs run their nodes in order, without dask. Rasa runs a graph three times a
   turn (understanding the message, then each prediction of the next action); each time it
   worked out again which nodes the targets need (a recursive walk of the schema) and handed
   them to dask's scheduler: ≈2.3 ms of a plain turn's ≈17 ms, none of it the models' work.
   Here the nodes a run needs, in an order that puts each after what it needs, are worked out
   once per targets and inputs; then each node is called as dask called it (the outputs of
   what it needs, a name nothing provides passed as is), every node dask would have run, and
   a RuntimeError still becomes Rasa's GraphRunError.
13. A tracker's applied events (those not taken back) are sorted by their class looked up in a
   table, not by up to six ``isinstance`` checks per event through ``ABCMeta`` (Rasa asks
   several times a turn: ≈14 % of Rasa's CPU with 20-turn conversations). bot/tracker_history.py.
14. The tracker copy made for every action that runs takes the events and a copy of their state
   instead of replaying every event of the conversation onto a new tracker (≈5 % of Rasa's CPU);
   a tracker keeping only its last events still replays. bot/tracker_history.py; the tracker's
   attributes are checked to be the ones copied, so an attribute a new Rasa adds is not missed.
15. RulePolicy remembers which rules apply to the last few states of a conversation. For every
   prediction it compared each of its rules with the conversation's latest state, then the
   survivors with the state before, and so on through the whole conversation (≈5 % of Rasa's
   CPU). A rule longer than n states cannot be told apart by states before the last n, so the
   answer depends only on the last n states of the longest rule: it is kept per those states
   (equal states, the same answer: the comparison reads nothing else) and computed Rasa's way
   when they are new. Rasa's own answer is a set of strings, whose order (used only to break a
   tie between two matching rules of equal length) differs from one run of Rasa to the next
   anyway; a kept answer is one of those orders.

Also checked, though not replaced here: the private hooks of Rasa's collecting output channel
that the WeCom channel overrides (bot/channels/wecom/channel.py), ``rasa.cli.run.run``,
which bot/server.py wraps to keep the API's secret off the command line, and the parts of
Rasa's SQL tracker store that bot/tracker_store.py builds on.
"""
from __future__ import annotations

import copy
import functools
import importlib
import warnings
import weakref
from typing import Any, Callable, Optional

import ujson
from jsonschema import validators
from jsonschema.exceptions import best_match
from sqlalchemy import event
from sqlalchemy.engine import Engine

from . import tracker_history
from .past_states import past_states
from .turn_queue import TurnQueue

SUPPORTED_RASA = "3.6"
# A custom action usually answers in a few ms and keeps its turn's place (it is waited for
# once). One that takes longer (a slow backend) lets other turns run meanwhile.
STEP_ASIDE_AFTER_SECONDS = 0.2
# What the fixes replace or rely on, as module:attribute.path.
RELIED_ON = (
    "rasa.core.actions.action:RemoteAction._validate_action_result",  # 1
    "rasa.core.actions.action:RemoteAction.action_response_format_spec",
    "rasa.core.processor:MessageProcessor.handle_message",  # 2
    "rasa.core.actions.action:RemoteAction.run",
    "rasa.shared.core.events:Event.resolve_by_type",  # 3
    "rasa.shared.utils.common:all_subclasses",
    "rasa.utils.tensorflow.models:RasaModel.load",  # 4
    "rasa.utils.tensorflow.models:RasaModel.run_inference",
    "rasa.core.channels.channel:CollectingOutputChannel._persist_message",  # the WeCom channel's hooks
    "rasa.core.channels.channel:CollectingOutputChannel._message",
    "rasa.cli.run:run",  # bot/server.py
    "rasa.shared.core.trackers:DialogueStateTracker.past_states",  # 6
    "rasa.shared.core.trackers:DialogueStateTracker.applied_events",
    "rasa.shared.core.trackers:DialogueStateTracker.init_copy",
    "rasa.shared.core.domain:Domain.get_active_state",
    "rasa.shared.core.domain:Domain._get_prev_action_sub_state",
    "rasa.shared.core.domain:Domain._remove_rule_only_features",
    "rasa.shared.core.domain:Domain._substitute_rule_only_user_input",
    "rasa.shared.core.domain:Domain._clean_state",
    "rasa.core.tracker_store:SQLTrackerStore.session_scope",  # bot/tracker_store.py
    "rasa.core.tracker_store:SQLTrackerStore.SQLEvent",
    "rasa.core.tracker_store:TrackerStore.stream_events",
    "rasa.nlu.selectors.response_selector:ResponseSelector.process",  # 7
    "rasa.utils.endpoints:EndpointConfig.session",  # 8
    "rasa.core.run:close_resources",
    "rasa.core.actions.action:RemoteAction._action_call_format",  # 11
    "rasa.engine.runner.dask:DaskGraphRunner.run",  # 12
    "rasa.engine.runner.dask:DaskGraphRunner._instantiate_nodes",  # (its result, kept by each runner)
    "rasa.engine.graph:GraphSchema.minimal_graph_schema",
    "rasa.core.run:load_agent_on_start",  # 9
    "rasa.utils.tensorflow.models:RasaModel._rasa_predict",  # 10
    "rasa.utils.tensorflow.models:RasaModel._empty_lists_to_none_in_dict",
    "rasa.utils.tensorflow.models:tf_utils.sync_to_numpy_or_python_type",
    "rasa.utils.tensorflow.models:DIAGNOSTIC_DATA",
    "tensorflow.python.eager.polymorphic_function.monomorphic_function:ConcreteFunction._call_flat",
    "rasa.shared.core.trackers:DialogueStateTracker._undo_till_previous",  # 13
    "rasa.shared.core.trackers:DialogueStateTracker._undo_till_previous_loop_execution",
    "rasa.shared.core.trackers:DialogueStateTracker._first_loop_execution_or_unhappy_path",
    "rasa.shared.core.trackers:DialogueStateTracker.copy",  # 14
    "rasa.shared.core.trackers:DialogueStateTracker.travel_back_in_time",
    "rasa.shared.core.trackers:TrackerActiveLoop",
    "rasa.core.policies.rule_policy:RulePolicy._get_possible_keys",  # 15
    "rasa.core.policies.rule_policy:RulePolicy._is_rule_applicable",
    "rasa.core.policies.rule_policy:RulePolicy._rule_key_to_state",
)
# 15: answers kept per rule table before they are all dropped (each a few kB: the frozen states).
# The recorded and rewriting conversations of the tests ask 227 times and leave 55.
RULE_ANSWERS_KEPT = 2000
RULE_ANSWERS_ATTRIBUTE = "_campus_rule_answers"
# 7: DIET's confidence above which another intent is taken as sure, and faq's below which it is
# taken as unlikely (held-out split, 2026-12-01: see the docstring).
SURE_OF_ANOTHER_INTENT = 0.7
FAQ_UNLIKELY_BELOW = 0.1
# 8: below Sanic's default KEEP_ALIVE_TIMEOUT (5 s) of the action server.
KEEPALIVE_SECONDS = 4.0


class IncompatibleRasa(RuntimeError):
    """The installed Rasa is not the one these fixes were written for."""


# ------------------------------------------------------------------ the guard
def check_rasa(version: Optional[str] = None) -> None:
    """Raises IncompatibleRasa unless Rasa is 3.6.x and has everything the fixes touch."""
    if version is None:
        import rasa

        version = rasa.__version__
    if version.split(".")[:2] != SUPPORTED_RASA.split("."):
        raise IncompatibleRasa(
            f"Rasa {version} is installed, but bot/rasa_patches.py fixes internals of Rasa {SUPPORTED_RASA}.x "
            "and must not run on another version. Install the pinned Rasa (requirements/rasa.txt: "
            "`.venv/rasa/bin/pip install -r requirements/rasa.txt`), or port each fix to the new Rasa, "
            "update SUPPORTED_RASA and run tests/bot/test_rasa_patches.py.")
    missing = [name for name in RELIED_ON if not _exists(name)]
    if missing:
        raise IncompatibleRasa(
            f"Rasa {version} lacks {', '.join(missing)}, which bot/rasa_patches.py replaces or relies on: "
            "the fixes would not take effect. Reinstall the pinned Rasa (requirements/rasa.txt), or port "
            "the fix that uses each name to where Rasa moved it (RELIED_ON lists them).")


def _exists(dotted: str) -> bool:
    """``module:Class.attribute`` exists, the attribute defined by that class itself (one only
    inherited would be another method: wrapping it would change what the fix wraps)."""
    module_name, _, path = dotted.partition(":")
    try:
        with warnings.catch_warnings():  # rasa.core.run's imports (sanic_cors, pyparsing) warn about their own dependencies
            warnings.simplefilter("ignore")
            found: Any = importlib.import_module(module_name)
    except ImportError:
        return False
    for attribute in path.split("."):
        if isinstance(found, type) and attribute not in vars(found):
            return False
        if not hasattr(found, attribute):
            return False
        found = getattr(found, attribute)
    return True


def apply(turns_at_once: int, patience: float = STEP_ASIDE_AFTER_SECONDS) -> TurnQueue:
    """Checks Rasa (IncompatibleRasa before anything changes), then applies every fix."""
    check_rasa()
    from rasa.core.actions.action import RemoteAction
    from rasa.core.policies.rule_policy import RulePolicy
    from rasa.engine.runner.dask import DaskGraphRunner
    from rasa.shared.core.events import Event
    from rasa.shared.core.trackers import DialogueStateTracker
    from rasa.nlu.selectors.response_selector import ResponseSelector
    from rasa.utils.endpoints import EndpointConfig
    from rasa.utils.tensorflow.models import RasaModel

    event_kind_validators()  # IncompatibleRasa if the response schema is no longer what fix 1 assumes
    check_tracker_attributes()  # … or a tracker has attributes fix 14 would not copy
    RemoteAction._validate_action_result = validate_action_result
    queue = queue_turns(TurnQueue(turns_at_once), patience)
    Event.resolve_by_type = staticmethod(resolving_event_types_once(Event.resolve_by_type))
    RasaModel.load = loading_for_prediction_only(RasaModel.__dict__["load"])
    if not event.contains(Engine, "connect", sqlite_write_ahead):
        event.listen(Engine, "connect", sqlite_write_ahead)
    DialogueStateTracker.past_states = past_states
    ResponseSelector.process = selecting_only_possible_questions(ResponseSelector.process)
    EndpointConfig.session = kept_sessions(EndpointConfig.session)
    import rasa.core.run  # imported by check_rasa

    rasa.core.run.close_resources = closing_kept_sessions_too(rasa.core.run.close_resources)
    rasa.core.run.load_agent_on_start = freezing_what_loading_left(rasa.core.run.load_agent_on_start)
    RasaModel._rasa_predict = predicting_through_the_traced_function(RasaModel._rasa_predict)
    RemoteAction._action_call_format = sending_what_actions_read(RemoteAction._action_call_format)
    DaskGraphRunner.run = running_nodes_in_order
    DialogueStateTracker.applied_events = tracker_history.applied_events
    DialogueStateTracker.copy = tracker_history.copied_without_replay
    RulePolicy._get_possible_keys = remembering_applicable_rules(RulePolicy._get_possible_keys)
    return queue


# ------------------------------------------------------------------ 1. action responses
@functools.lru_cache(maxsize=1)
def action_response_validator() -> Any:
    from rasa.core.actions.action import RemoteAction

    schema = RemoteAction.action_response_format_spec()
    validator_class = validators.validator_for(schema)
    validator_class.check_schema(schema)  # what jsonschema.validate does on every call, done once
    return validator_class(schema)


@functools.lru_cache(maxsize=1)
def event_kind_validators() -> tuple[Any, dict[str, Any]]:
    """The response's schema without its events' ``oneOf``, and a validator per event kind (by its
    ``event`` constant). Together they accept what the whole schema does: the base part requires
    ``event`` as a string, and a string equals at most one kind's constant, so exactly one
    alternative of the ``oneOf`` matches iff the event's own kind does."""
    from rasa.core.actions.action import RemoteAction

    schema = copy.deepcopy(RemoteAction.action_response_format_spec())
    event_schema = schema["properties"]["events"]["items"]
    if "event" not in event_schema.get("required", ()) or event_schema["properties"]["event"] != {"type": "string"}:
        raise IncompatibleRasa("Rasa's event schema no longer requires a string `event`; fix 1 assumes it does")
    kinds: dict[str, Any] = {}
    for alternative in event_schema.pop("oneOf"):
        kind = alternative.get("properties", {}).get("event", {}).get("const")
        if not isinstance(kind, str):
            raise IncompatibleRasa(f"an event kind of Rasa's schema has no `event` constant: {alternative}")
        if kind in kinds:
            raise IncompatibleRasa(f"two event kinds of Rasa's schema are both {kind!r}; fix 1 assumes one each")
        kinds[kind] = validators.validator_for(alternative)(alternative)
    return validators.validator_for(schema)(schema), kinds


def valid_by_event_kind(result: Any) -> bool:
    base, kinds = event_kind_validators()
    if not base.is_valid(result):
        return False
    for event in result.get("events") or ():
        kind = kinds.get(event["event"])
        if kind is None or not kind.is_valid(event):
            return False
    return True


def validate_action_result(self: Any, result: dict[str, Any]) -> bool:
    if valid_by_event_kind(result):
        return True
    error = best_match(action_response_validator().iter_errors(result))  # as jsonschema.validate picks it
    if error is None:
        return True
    error.message += (". Failed to validate Action server response from API, make sure your response from the "
                      "Action endpoint is valid. For more information about the format visit "
                      "https://rasa.com/docs/rasa/custom-actions")
    raise error


# ------------------------------------------------------------------ 2. turns in order
def queue_turns(queue: TurnQueue, patience: float) -> TurnQueue:
    """Every user turn through ``queue``; a custom action still running after ``patience``
    seconds gives its turn's place up (a timer, so a quick action costs nothing extra)."""
    from rasa.core.actions.action import RemoteAction
    from rasa.core.processor import MessageProcessor

    handle_message, run_action = MessageProcessor.handle_message, RemoteAction.run

    @functools.wraps(handle_message)
    async def handle_message_in_turn(*args: Any, **kwargs: Any) -> Any:
        async with queue.turn():
            return await handle_message(*args, **kwargs)

    @functools.wraps(run_action)
    async def run_action_stepping_aside_when_slow(*args: Any, **kwargs: Any) -> Any:
        return await queue.stepping_aside_when_slow(run_action(*args, **kwargs), patience)

    MessageProcessor.handle_message = handle_message_in_turn
    RemoteAction.run = run_action_stepping_aside_when_slow
    return queue


# ------------------------------------------------------------------ 3. event classes by name
def resolving_event_types_once(resolve: Callable[..., Any]) -> Callable[..., Any]:
    from rasa.shared.core.events import Event
    from rasa.shared.utils.common import all_subclasses

    by_name: dict[str, type] = {}

    @functools.wraps(resolve)
    def resolve_by_type(type_name: str, default: Optional[type] = None) -> Optional[type]:
        if not by_name:
            for cls in reversed(all_subclasses(Event)):  # reversed: the first match wins, as in Rasa
                by_name[cls.type_name] = cls
        found = by_name.get(type_name)
        return found if found is not None else resolve(type_name, default)

    return resolve_by_type


# ------------------------------------------------------------------ 4. models for prediction only
def loading_for_prediction_only(load: classmethod) -> classmethod:
    rasas_load = load.__func__

    def load_for_prediction(cls: type, model_file_name: str, model_data_example: Any,
                            predict_data_example: Any = None, finetune_mode: bool = False,
                            *args: Any, **kwargs: Any) -> Any:
        if finetune_mode or predict_data_example is None:
            return rasas_load(cls, model_file_name, model_data_example, predict_data_example, finetune_mode,
                              *args, **kwargs)
        model = cls(*args, **kwargs)
        # The checkpoint also holds the optimizer's slots: not wanted here, hence expect_partial.
        restored = model.load_weights(model_file_name).expect_partial()
        model.run_inference(predict_data_example)  # creates the variables; each is restored on creation
        restored.assert_existing_objects_matched()
        return model

    return classmethod(functools.wraps(rasas_load)(load_for_prediction))


# ------------------------------------------------------------------ 5. SQLite without an fsync per turn
def sqlite_write_ahead(dbapi_connection: Any, _record: Any) -> None:
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()


# ------------------------------------------------------------------ 7. the ResponseSelector where it matters
def may_be_a_question_for(message: Any, retrieval_intent: Optional[str]) -> bool:
    """Whether the selector's answer could be used for ``message``: DIET (which ran before) is not
    sure of another intent, or gives the retrieval intent a real chance."""
    intent = message.get("intent") or {}
    if not retrieval_intent or not intent.get("name") or intent["name"] == retrieval_intent:
        return True
    ranked = {entry.get("name"): entry.get("confidence") or 0.0 for entry in message.get("intent_ranking") or []}
    return (intent.get("confidence") or 0.0) < SURE_OF_ANOTHER_INTENT or ranked.get(retrieval_intent, 0.0) >= FAQ_UNLIKELY_BELOW


def selecting_only_possible_questions(process: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(process)
    def process_possible_questions(self: Any, messages: list) -> list:
        asked = [message for message in messages if may_be_a_question_for(message, self.retrieval_intent)]
        if asked:
            process(self, asked)  # sets its result on each message it is given
        return messages

    return process_possible_questions


# ------------------------------------------------------------------ 8. connections kept
class _KeptSession:
    """What ``async with endpoint.session()`` gets: the endpoint's kept session, not closed on exit."""

    def __init__(self, session: Any) -> None:
        self.session = session

    async def __aenter__(self) -> Any:
        return self.session

    async def __aexit__(self, *_exc: Any) -> None:
        return None


def kept_sessions(session: Callable[..., Any]) -> Callable[..., Any]:
    """One aiohttp session per endpoint and event loop, made as Rasa makes it (headers, basic auth,
    timeout) with a connector that keeps idle connections for KEEPALIVE_SECONDS."""
    import asyncio

    import aiohttp

    @functools.wraps(session)
    def kept_session(self: Any) -> Any:
        loop = asyncio.get_running_loop()
        kept = self.__dict__.get("_campus_session")
        if kept is None or kept[0] is not loop or kept[1].closed:
            made = session(self)  # Rasa's, for its settings (it has opened nothing yet)
            kept = (loop, aiohttp.ClientSession(
                headers=made.headers, auth=made.auth, timeout=made.timeout, json_serialize=ujson_dumps,
                connector=aiohttp.TCPConnector(keepalive_timeout=KEEPALIVE_SECONDS)))
            loop.create_task(made.close())
            self.__dict__["_campus_session"] = kept
            KEPT_SESSIONS.add(kept[1])
        return _KeptSession(kept[1])

    return kept_session


KEPT_SESSIONS: "weakref.WeakSet[Any]" = weakref.WeakSet()


def ujson_dumps(value: Any) -> str:
    return ujson.dumps(value, ensure_ascii=False, escape_forward_slashes=False)


def closing_kept_sessions_too(close_resources: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(close_resources)
    async def close_resources_and_kept_sessions(app: Any, loop: Any) -> None:
        await close_resources(app, loop)
        for session in list(KEPT_SESSIONS):
            await session.close()

    return close_resources_and_kept_sessions


# ------------------------------------------------------------------ 9. the loaded model out of the collector
def freezing_what_loading_left(load_agent_on_start: Callable[..., Any]) -> Callable[..., Any]:
    import gc

    @functools.wraps(load_agent_on_start)
    async def load_agent_and_freeze(*args: Any, **kwargs: Any) -> Any:
        loaded = await load_agent_on_start(*args, **kwargs)
        gc.collect()  # loading's garbage first: only what stays is frozen
        gc.freeze()
        return loaded

    return load_agent_and_freeze


# ------------------------------------------------------------------ 10. predictions through the traced function
TRACED_ATTRIBUTE = "_campus_traced_predict"


def predicting_through_the_traced_function(rasa_predict: Callable[..., Any]) -> Callable[..., Any]:
    import tensorflow as tf
    from rasa.utils.tensorflow import models

    @functools.wraps(rasa_predict)
    def predict_traced(self: Any, batch_in: Any) -> Any:
        traced = self.__dict__.get(TRACED_ATTRIBUTE)
        if traced is None or len(batch_in) != len(traced[1]) or any(
                getattr(value, "dtype", None) != dtype for value, dtype in zip(batch_in, traced[1])):
            outputs = rasa_predict(self, batch_in)  # traces tf.function on the first call
            if traced is None and self._tf_predict_step is not None and not self._run_eagerly:
                signature = self._tf_predict_step.input_signature[0]
                self.__dict__[TRACED_ATTRIBUTE] = (self._tf_predict_step.get_concrete_function(),
                                                   [spec.dtype.as_numpy_dtype for spec in signature])
            return outputs
        function, _ = traced
        self._training = False  # as Rasa's _rasa_predict sets it
        tensors = [tf.convert_to_tensor(value) for value in batch_in]
        outputs = models.tf_utils.sync_to_numpy_or_python_type(function._call_flat(tensors, function.captured_inputs))
        if models.DIAGNOSTIC_DATA in outputs:
            outputs[models.DIAGNOSTIC_DATA] = self._empty_lists_to_none_in_dict(outputs[models.DIAGNOSTIC_DATA])
        return outputs

    return predict_traced


# ------------------------------------------------------------------ 11. action calls without what no action reads
PAST_PARSE_UNREAD = ("intent_ranking", "response_selector", "text_tokens")


def without_unread(event: dict[str, Any]) -> dict[str, Any]:
    """A past user message's event without the rankings (a new dict: the tracker's own are kept)."""
    parsed = event.get("parse_data")
    if event.get("event") != "user" or not isinstance(parsed, dict):
        return event
    return {**event, "parse_data": {key: value for key, value in parsed.items() if key not in PAST_PARSE_UNREAD}}


def sending_what_actions_read(action_call_format: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(action_call_format)
    def action_call(self: Any, tracker: Any, domain: Any) -> dict[str, Any]:
        call = action_call_format(self, tracker, domain)
        state = call.get("tracker")
        if isinstance(state, dict) and isinstance(state.get("events"), list):
            state["events"] = [without_unread(event) for event in state["events"]
                               if event.get("event") != "user_featurization"]
        return call

    return action_call


# ------------------------------------------------------------------ 12. the graph's nodes in order
PLANS_ATTRIBUTE = "_campus_plans_in_order"


def nodes_in_order(runner: Any, targets: tuple[str, ...], inputs: frozenset[str]) -> list[tuple[str, Any, tuple]]:
    """(name, node, names of what it needs) for every node dask would run — the targets' minimal
    schema without the nodes an input stands in for — each after the nodes it needs."""
    schema = runner._graph_schema.minimal_graph_schema(list(targets))
    to_run = {name: node for name, node in schema.nodes.items() if name not in inputs}
    ordered: list[tuple[str, Any, tuple]] = []
    placed: set[str] = set()

    def place(name: str) -> None:
        if name in placed or name not in to_run:
            return
        placed.add(name)
        needs = tuple(to_run[name].needs.values())
        for needed in needs:
            place(needed)
        ordered.append((name, runner._instantiated_nodes[name], needs))

    for name in to_run:
        place(name)
    return ordered


def running_nodes_in_order(self: Any, inputs: Optional[dict[str, Any]] = None,
                           targets: Optional[list[str]] = None) -> dict[str, Any]:
    """DaskGraphRunner.run without dask (see fix 12)."""
    from rasa.engine.exceptions import GraphRunError

    run_targets = tuple(targets if targets else self._graph_schema.target_names)
    inputs = inputs or {}
    plans = self.__dict__.setdefault(PLANS_ATTRIBUTE, {})
    plan_key = (run_targets, frozenset(inputs))
    if plan_key not in plans:
        ordered = nodes_in_order(self, run_targets, frozenset(inputs))
        plans[plan_key] = (ordered, {name for name, _, _ in ordered} | set(inputs))
    plan, names = plans[plan_key]
    outputs: dict[str, Any] = {}
    for input_name, input_value in inputs.items():
        if isinstance(input_value, str) and input_value in names:
            raise GraphRunError(
                f"Input value '{input_value}' clashes with a node name. Make sure that none of the input names "
                f"passed to the `run` method are the same as node names in the graph schema.")
        outputs[input_name] = (input_name, input_value)
    try:
        for name, node, needs in plan:
            outputs[name] = node(*[outputs.get(needed, needed) for needed in needs])
        return dict(outputs[target] for target in run_targets)
    except RuntimeError as e:
        raise GraphRunError("Error running runner.") from e


# ------------------------------------------------------------------ 13, 14. applied events, tracker copies
def check_tracker_attributes() -> None:
    """IncompatibleRasa unless a new tracker has exactly the attributes fix 14 knows: one it did
    not know might be state that a replay sets and the copy would leave out."""
    from rasa.shared.core.trackers import DialogueStateTracker

    found = set(vars(DialogueStateTracker("check", [])))
    if found != tracker_history.TRACKER_ATTRIBUTES:
        raise IncompatibleRasa(
            f"Rasa's DialogueStateTracker now has the attributes {sorted(found)}, not the ones bot/tracker_history.py "
            f"copies ({sorted(tracker_history.TRACKER_ATTRIBUTES)}): port fix 14 (copying the tracker without a "
            "replay) to the new tracker, or reinstall the pinned Rasa (requirements/rasa.txt).")


# ------------------------------------------------------------------ 15. the rules that apply, remembered
def frozen_state(state: dict) -> frozenset:
    """A dialogue state (sub-states of names to strings and tuples) as a dictionary key; a value
    that cannot be one (a list) raises TypeError."""
    return frozenset((name, frozenset(sub_state.items())) for name, sub_state in state.items())


class RuleAnswers:
    """One rule table's answers: the table, its size when they were computed (the table is built
    in training and then only read; a changed size drops them), its longest rule (in states)."""

    def __init__(self, policy: Any, lookup: dict):
        self.lookup, self.size = lookup, len(lookup)
        self.longest = max((len(policy._rule_key_to_state(key)) for key in lookup), default=0)
        self.kept: dict[tuple, frozenset] = {}


def remembering_applicable_rules(get_possible_keys: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(get_possible_keys)
    def applicable_rules(self: Any, lookup: dict, states: list) -> frozenset:
        tables: dict[int, RuleAnswers] = self.__dict__.setdefault(RULE_ANSWERS_ATTRIBUTE, {})
        answers = tables.get(id(lookup))
        if answers is None or answers.lookup is not lookup or answers.size != len(lookup):
            answers = tables[id(lookup)] = RuleAnswers(self, lookup)
        deciding = states[-answers.longest:] if answers.longest else []
        try:
            key = tuple(frozen_state(state) for state in deciding)
        except TypeError:
            return get_possible_keys(self, lookup, states)
        found = answers.kept.get(key)
        if found is None:
            if len(answers.kept) >= RULE_ANSWERS_KEPT:
                answers.kept.clear()
            found = answers.kept[key] = frozenset(get_possible_keys(self, lookup, deciding))
        return found  # (frozen: Rasa only reads it, and kept answers must not change)

    return applicable_rules
