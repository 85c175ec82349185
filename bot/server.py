"""`rasa run` with our fixes to Rasa 3.6 applied first; takes exactly `rasa`'s arguments.

  .venv/rasa/bin/python -m bot.server run --model models --endpoints bot/endpoints.yml …

1. Custom action responses are checked by a validator built once. Rasa checks each
   response with ``jsonschema.validate``, which first re-validates Rasa's constant schema
   against the JSON-Schema metaschema: ~17 ms of CPU on the event loop per action call,
   more than the action server and the backend take together. Every response is still
   validated, with Rasa's own error message.
2. User turns are admitted first come, first served, at most RASA_TURNS_AT_ONCE (default
   2) at a time. Rasa runs NLU and policies on its one event loop; with every waiting turn
   admitted, a turn that calls the action server waits behind all the others again when
   its answer is back, so under load it took twice as long as a turn answered from the
   domain. Queued in order, each waits once. Two at once let one turn's CPU work overlap
   another's wait for the action server. Waiting for the conversation's own lock (a
   second message of the same sender) happens before the queue, so it holds no place.
"""
from __future__ import annotations

import asyncio
import functools
import os
import sys
from collections import deque
from typing import Any, Awaitable, Callable, TypeVar

from jsonschema import validators
from jsonschema.exceptions import best_match
from rasa.core.actions.action import RemoteAction
from rasa.core.processor import MessageProcessor

T = TypeVar("T")
DEFAULT_TURNS_AT_ONCE = 2


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
class InOrder:
    """At most ``at_once`` holders; the others wait and are let in strictly in arrival order.

    (asyncio.Semaphore lets a newcomer in ahead of a waiter that was just woken.)"""

    def __init__(self, at_once: int):
        self.free = at_once
        self.waiting: deque[asyncio.Future] = deque()

    async def __aenter__(self) -> None:
        if self.free and not self.waiting:
            self.free -= 1
            return
        turn = asyncio.get_running_loop().create_future()
        self.waiting.append(turn)
        try:
            await turn  # resolved by _release: the place is handed over, never up for grabs
        except asyncio.CancelledError:
            if turn.done() and not turn.cancelled():
                self._release()  # handed a place just as cancelled: pass it on
            elif turn in self.waiting:
                self.waiting.remove(turn)
            raise

    async def __aexit__(self, *exc_info: object) -> None:
        self._release()

    def _release(self) -> None:
        while self.waiting:
            turn = self.waiting.popleft()
            if not turn.done():
                turn.set_result(None)
                return
        self.free += 1


def admitted_in_order(handle: Callable[..., Awaitable[T]], at_once: int) -> Callable[..., Awaitable[T]]:
    """``handle`` wrapped so that at most ``at_once`` calls run, the others waiting in arrival order."""
    queue = InOrder(at_once)

    @functools.wraps(handle)
    async def in_order(*args: Any, **kwargs: Any) -> T:
        async with queue:
            return await handle(*args, **kwargs)

    return in_order


def turns_at_once() -> int:
    value = os.environ.get("RASA_TURNS_AT_ONCE", str(DEFAULT_TURNS_AT_ONCE))
    if not value.isdigit() or int(value) < 1:
        raise SystemExit(f"RASA_TURNS_AT_ONCE must be a whole number ≥ 1, not {value!r}")
    return int(value)


def apply_fixes() -> None:
    RemoteAction._validate_action_result = validate_action_result
    MessageProcessor.handle_message = admitted_in_order(MessageProcessor.handle_message, turns_at_once())


def main() -> None:
    apply_fixes()
    from rasa.__main__ import main as rasa_main

    sys.argv[0] = "rasa"
    rasa_main()


if __name__ == "__main__":
    main()
