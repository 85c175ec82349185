"""`rasa run` with our fixes to Rasa 3.6 applied first; takes exactly `rasa`'s arguments.

  .venv/rasa/bin/python -m bot.server run --model models --endpoints bot/endpoints.yml …

1. Custom action responses are checked by a validator built once. Rasa checks each
   response with ``jsonschema.validate``, which first re-validates Rasa's constant schema
   against the JSON-Schema metaschema: ~17 ms of CPU on the event loop per action call,
   more than the action server and the backend take together. Every response is still
   validated, with Rasa's own error message.
2. User turns are admitted first come, first served, at most RASA_TURNS_AT_ONCE (default
   2) working at a time. Rasa runs NLU and policies on its one event loop; with every
   waiting turn admitted, a turn that calls the action server waited behind all the
   others again when its answer was back, so under load it took twice as long as a turn
   answered from the domain. Now each waits once. A custom action still running after
   STEP_ASIDE_AFTER_SECONDS gives its place up (a slow backend blocks no one) and its turn
   comes back ahead of turns not yet started. Waiting for the conversation's own lock (a
   second message of the same sender) happens before the queue.
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
6. The HTTP API's secret comes from the environment, never from the command line (which
   `ps` shows to every user): with RASA_JWT_SECRET set, `run` enables the API behind JWT
   (HS256) auth; without it the API stays off. --auth-token, --jwt-secret and an
   --enable-api without the secret are refused.
"""
from __future__ import annotations

import argparse
import asyncio
import functools
import os
import sys
from collections import deque
from contextlib import asynccontextmanager
from contextvars import ContextVar
from typing import Any, AsyncIterator, Awaitable, Callable, Mapping, Optional, TypeVar

from jsonschema import validators
from jsonschema.exceptions import best_match
from rasa.core.actions.action import RemoteAction
from rasa.core.processor import MessageProcessor
from sqlalchemy import event
from sqlalchemy.engine import Engine

T = TypeVar("T")
DEFAULT_TURNS_AT_ONCE = 2
# A custom action usually answers in a few ms and keeps its turn's place (it is waited for
# once). One that takes longer (a slow backend) lets other turns run meanwhile.
STEP_ASIDE_AFTER_SECONDS = 0.2


# ------------------------------------------------------------------ 1. action responses
@functools.lru_cache(maxsize=1)
def action_response_validator() -> Any:
    schema = RemoteAction.action_response_format_spec()
    validator_class = validators.validator_for(schema)
    validator_class.check_schema(schema)  # what jsonschema.validate does on every call, done once
    return validator_class(schema)


def validate_action_result(self: RemoteAction, result: dict[str, Any]) -> bool:
    error = best_match(action_response_validator().iter_errors(result))  # as jsonschema.validate picks it
    if error is None:
        return True
    error.message += (". Failed to validate Action server response from API, make sure your response from the "
                      "Action endpoint is valid. For more information about the format visit "
                      "https://rasa.com/docs/rasa/custom-actions")
    raise error


# ------------------------------------------------------------------ 2. turns in order
class TurnQueue:
    """User turns in arrival order, at most ``at_once`` doing their work at a time.

    A turn may step aside while it waits for something slow (``stepping_aside_when_slow``)
    and then comes back ahead of every turn that has not started yet, in the order the
    turns came back. Places are handed from one turn to the next, never left up for grabs
    (asyncio.Semaphore lets a newcomer overtake a turn it has just woken).
    """

    def __init__(self, at_once: int):
        self.free = at_once
        self.returning: deque[asyncio.Future] = deque()  # served first
        self.waiting: deque[asyncio.Future] = deque()
        self._holding: ContextVar[bool] = ContextVar(f"holding_{id(self)}", default=False)

    @asynccontextmanager
    async def turn(self) -> AsyncIterator[None]:
        await self._acquire(first=False)
        self._holding.set(True)
        try:
            yield
        finally:
            if self._holding.get():  # not if it gave its place up in a slow wait that then failed
                self._holding.set(False)
                self._release()

    async def stepping_aside_when_slow(self, work: Awaitable[T], patience: float) -> T:
        """Await ``work`` keeping this turn's place; if it takes longer than ``patience`` seconds,
        the place goes to the next turn meanwhile, and this turn comes back ahead of new ones."""
        if not self._holding.get():  # not inside a turn (e.g. a notification's trigger_intent)
            return await work
        stepped_aside = False

        def step_aside() -> None:
            nonlocal stepped_aside
            stepped_aside = True
            self._release()

        timer = asyncio.get_running_loop().call_later(patience, step_aside)
        try:
            result = await work
        except BaseException:
            timer.cancel()
            if stepped_aside:
                self._holding.set(False)  # no place held now: turn() must not give one back
            raise
        timer.cancel()
        if stepped_aside:
            self._holding.set(False)
            await self._acquire(first=True)
            self._holding.set(True)
        return result

    async def _acquire(self, first: bool) -> None:
        if self.free and not self.returning and not self.waiting:
            self.free -= 1
            return
        place = asyncio.get_running_loop().create_future()
        line = self.returning if first else self.waiting
        line.append(place)
        try:
            await place  # resolved by _release: the place is handed over
        except asyncio.CancelledError:
            if place.done() and not place.cancelled():
                self._release()  # handed a place just as cancelled: pass it on
            elif place in line:
                line.remove(place)
            raise

    def _release(self) -> None:
        for line in (self.returning, self.waiting):
            while line:
                place = line.popleft()
                if not place.done():
                    place.set_result(None)
                    return
        self.free += 1


def queue_turns(at_once: int, patience: float = STEP_ASIDE_AFTER_SECONDS) -> TurnQueue:
    """Every user turn through one TurnQueue; a custom action still running after ``patience``
    seconds gives its turn's place up (a timer, so a quick action costs nothing extra)."""
    queue = TurnQueue(at_once)
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


def turns_at_once() -> int:
    value = os.environ.get("RASA_TURNS_AT_ONCE", str(DEFAULT_TURNS_AT_ONCE))
    if not value.isdigit() or int(value) < 1:
        raise SystemExit(f"RASA_TURNS_AT_ONCE must be a whole number ≥ 1, not {value!r}")
    return int(value)


def apply_fixes() -> None:
    from rasa.shared.core.events import Event
    from rasa.utils.tensorflow.models import RasaModel

    RemoteAction._validate_action_result = validate_action_result
    queue_turns(turns_at_once())
    Event.resolve_by_type = staticmethod(resolving_event_types_once(Event.resolve_by_type))
    RasaModel.load = loading_for_prediction_only(RasaModel.__dict__["load"])
    if not event.contains(Engine, "connect", sqlite_write_ahead):
        event.listen(Engine, "connect", sqlite_write_ahead)


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


# ------------------------------------------------------------------ 6. the API's secret
JWT_SECRET_VARIABLE = "RASA_JWT_SECRET"
MIN_JWT_SECRET_LENGTH = 32  # HS256 wants a key of at least its 256 bits


class RefusedArguments(Exception):
    """`rasa run` would expose a secret on its command line or run its API unprotected."""


def secure_api(args: argparse.Namespace, env: Mapping[str, str] = os.environ) -> argparse.Namespace:
    """`rasa run`'s parsed arguments with the API enabled behind the environment's JWT secret,
    or disabled without one. Checked after parsing, so abbreviations (-t, --auth) count too."""
    if args.auth_token or args.jwt_secret or args.jwt_private_key:
        raise RefusedArguments(
            "Secrets on the command line are visible to every user of the machine (ps). Do not pass "
            f"--auth-token or --jwt-secret: set {JWT_SECRET_VARIABLE} in Rasa's environment instead.")
    secret = env.get(JWT_SECRET_VARIABLE, "")
    if not secret:
        if args.enable_api:
            raise RefusedArguments(
                f"--enable-api without {JWT_SECRET_VARIABLE} would open Rasa's HTTP API to anyone who can reach "
                f"it. Set {JWT_SECRET_VARIABLE} (at least {MIN_JWT_SECRET_LENGTH} random characters; `make env` "
                "writes one to .env): the API is then enabled behind JWT auth.")
        return args
    if len(secret) < MIN_JWT_SECRET_LENGTH:
        raise RefusedArguments(f"{JWT_SECRET_VARIABLE} is only {len(secret)} characters long; use at least "
                               f"{MIN_JWT_SECRET_LENGTH} random characters.")
    if secret == env.get("WEBCHAT_TOKEN_SECRET"):
        raise RefusedArguments(f"{JWT_SECRET_VARIABLE} must differ from WEBCHAT_TOKEN_SECRET: a web chat token "
                               "must never open Rasa's HTTP API.")
    args.enable_api, args.jwt_secret, args.jwt_method = True, secret, "HS256"
    return args


def securing_api(run: Callable[[argparse.Namespace], None]) -> Callable[[argparse.Namespace], None]:
    @functools.wraps(run)
    def run_with_secure_api(args: argparse.Namespace) -> None:
        try:
            secured = secure_api(args)
        except RefusedArguments as refusal:
            print(refusal, file=sys.stderr)
            sys.exit(2)
        run(secured)

    return run_with_secure_api


def main() -> None:
    apply_fixes()
    import rasa.cli.run

    # Before Rasa builds its parser, which binds `rasa run` to this module attribute.
    rasa.cli.run.run = securing_api(rasa.cli.run.run)
    from rasa.__main__ import main as rasa_main

    sys.argv[0] = "rasa"
    rasa_main()


if __name__ == "__main__":
    main()
