"""Two of Rasa 3.6's tracker methods, made cheaper with the same results (bot/rasa_patches.py,
fixes 13 and 14; tests/bot/test_tracker_history.py compares them with Rasa's on real
conversations).

``applied_events`` — the events not taken back (by a revert, a restart, a rejected loop turn).
Rasa asks for them several times a turn (before every policy's prediction, for the session's
last event, …) and checked every event against up to six classes with ``isinstance``; Rasa's
events are abstract-base classes, whose checks run through ``ABCMeta.__instancecheck__``.
Here each event class is put in its group once, by the same checks in the same order, and a
turn's events are then sorted by a dictionary look-up. With 20-turn conversations Rasa's version
took ≈14 % of Rasa's CPU in the bot benchmark.

``copy`` — a copy of the tracker for the action about to run. Rasa built it by replaying every
event of the conversation onto a new tracker (≈5 % of its CPU); a tracker's state is, by Rasa's
own rule, what replaying its events gives, so here the new tracker takes the events and a copy
of that state. A tracker that keeps only its last events (``max_event_history``) goes Rasa's
way: its state came from events it no longer has, and Rasa's replay would not reproduce it.
"""
from __future__ import annotations

import copy as copying
import dataclasses
from typing import Any

# The groups of applied_events, in the order Rasa tests for them (the first match wins).
RESET, ACTION_REVERTED, UTTERANCE_REVERTED, ACTION, OTHER = range(5)
# Every attribute a tracker has after DialogueStateTracker.__init__ (rasa_patches checks it is
# still so); the state is what replaying its events sets, the rest come from ``init_copy``.
TRACKER_STATE = ("_paused", "followup_action", "latest_action", "latest_message", "latest_bot_utterance",
                 "active_loop")
TRACKER_ATTRIBUTES = frozenset(TRACKER_STATE + ("_max_event_history", "events", "sender_id", "slots",
                                                "sender_source", "is_rule_tracker", "model_id", "assistant_id"))

_groups: dict[type, tuple[int, bool]] = {}  # event class → (group, whether it is an ActiveLoop)


def _group_of(event_class: type) -> tuple[int, bool]:
    from rasa.shared.core.events import (ActionExecuted, ActionReverted, ActiveLoop, Restarted,
                                         SessionStarted, UserUtteranceReverted)

    if issubclass(event_class, (Restarted, SessionStarted)):
        group = RESET
    elif issubclass(event_class, ActionReverted):
        group = ACTION_REVERTED
    elif issubclass(event_class, UserUtteranceReverted):
        group = UTTERANCE_REVERTED
    elif issubclass(event_class, ActionExecuted):
        group = ACTION
    else:
        group = OTHER
    return group, issubclass(event_class, ActiveLoop)


def applied_events(self: Any) -> list:
    """``DialogueStateTracker.applied_events``: Rasa 3.6's loop over the events, each event's
    class looked up instead of checked with isinstance."""
    from rasa.shared.core.events import ActionExecuted, UserUttered

    groups = []
    for event in self.events:
        found = _groups.get(type(event))
        if found is None:
            found = _groups[type(event)] = _group_of(type(event))
        groups.append(found)
    loop_names = [event.name for event, (_, is_loop) in zip(self.events, groups) if is_loop and event.name]

    applied: list = []
    for event, (group, _) in zip(self.events, groups):
        if group == RESET:
            applied = []
        elif group == ACTION_REVERTED:
            self._undo_till_previous(ActionExecuted, applied)
        elif group == UTTERANCE_REVERTED:
            # the user's message taken back, then the action before it (as Rasa does)
            self._undo_till_previous(UserUttered, applied)
            self._undo_till_previous(ActionExecuted, applied)
        elif (group == ACTION and event.action_name in loop_names
              and not self._first_loop_execution_or_unhappy_path(event.action_name, applied)):
            self._undo_till_previous_loop_execution(event.action_name, applied)
        else:
            applied.append(event)
    return applied


def copied_without_replay(self: Any) -> Any:
    """``DialogueStateTracker.copy``: a new tracker (``init_copy``, as Rasa's) with the same
    events and a copy of the state their replay gives — the slots' values, the active loop, the
    latest action, message and bot utterance, the follow-up action, whether it is paused."""
    if self._max_event_history is not None:
        return self.travel_back_in_time(float("inf"))
    copied = self.init_copy()
    copied.events.extend(self.events)
    for name, slot in self.slots.items():
        copied.slots[name].__dict__.update(slot.__dict__)
    copied._paused = self._paused
    copied.followup_action = self.followup_action
    # A replay builds these anew: the copy must not share what the action's events may change.
    copied.latest_action = None if self.latest_action is None else dict(self.latest_action)
    loop = self.active_loop
    copied.active_loop = None if loop is None else dataclasses.replace(
        loop, trigger_message=copying.copy(loop.trigger_message))
    # Events, shared with the original as a replay shares them.
    copied.latest_message = self.latest_message
    copied.latest_bot_utterance = self.latest_bot_utterance
    return copied
