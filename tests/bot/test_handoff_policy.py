"""bot/handoff_policy.py decides alone while the help desk has the conversation: every message the
person writes is relayed and the assistant listens again; the backend's pushes and /restart are not
relayed; without the slots it leaves the turn to the other policies."""
from __future__ import annotations

from typing import Optional

import pytest
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.events import ActionExecuted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.handoff_policy import LEAVE_TICKET, RELAY, next_action


def tracker(slots: dict, intent: str, last_action: Optional[str] = None) -> DialogueStateTracker:
    from rasa.shared.core.slots import AnySlot  # noqa: PLC0415 - only the two slots the policy reads

    t = DialogueStateTracker("web:t2001", [AnySlot("handoff_active", []), AnySlot("ticket_pending", [])])
    for name, value in slots.items():
        t.update(SlotSet(name, value))
    t.update(ActionExecuted(ACTION_LISTEN_NAME))
    t.update(UserUttered("打印机连不上", intent={"name": intent, "confidence": 0.9}))
    if last_action:
        t.update(ActionExecuted(last_action))
    return t


@pytest.mark.parametrize("intent", ["out_of_scope", "greet", "request_matter", "nlu_fallback", "request_human"])
def test_while_handed_off_every_message_is_relayed(intent):
    assert next_action(tracker({"handoff_active": True}, intent)) == RELAY


def test_after_relaying_the_assistant_listens_again():
    assert next_action(tracker({"handoff_active": True}, "greet", RELAY)) == ACTION_LISTEN_NAME
    assert next_action(tracker({"ticket_pending": True}, "greet", LEAVE_TICKET)) == ACTION_LISTEN_NAME


def test_it_listens_after_the_action_that_just_ended_the_handoff_or_left_the_ticket():
    assert next_action(tracker({"handoff_active": False}, "greet", RELAY)) == ACTION_LISTEN_NAME
    assert next_action(tracker({"ticket_pending": None}, "greet", LEAVE_TICKET)) == ACTION_LISTEN_NAME


def test_outside_hours_the_next_message_becomes_a_ticket():
    assert next_action(tracker({"ticket_pending": True}, "out_of_scope")) == LEAVE_TICKET


@pytest.mark.parametrize("intent", ["EXTERNAL_notification", "restart"])
def test_the_backends_pushes_and_a_restart_are_not_relayed(intent):
    assert next_action(tracker({"handoff_active": True}, intent)) is None


def test_without_a_handoff_the_other_policies_decide():
    assert next_action(tracker({}, "greet")) is None
    assert next_action(tracker({"handoff_active": False}, "greet")) is None
