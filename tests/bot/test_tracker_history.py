"""bot/tracker_history.py: a tracker's applied events and its copy are what Rasa's own methods
give, after every event of real conversations (the recorded trackers of tests/actions) and of
conversations that rewrite their history (reverts, a rejected form, a restart, a new session)."""
from __future__ import annotations

import dataclasses
import warnings

import pytest

from tests.support.conversations import campus_domain, conversations

with warnings.catch_warnings():  # Rasa's imports warn about their own dependencies
    warnings.simplefilter("ignore")
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import ActionExecuted, ActiveLoop, LoopInterrupted, SlotSet, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

from bot import past_states, tracker_history

# Rasa's own, as shipped (rasa_patches.apply, if a test ran it, replaces the class's).
RASAS_APPLIED_EVENTS = DialogueStateTracker.__dict__["applied_events"]
RASAS_COPY = DialogueStateTracker.__dict__["copy"]


@pytest.fixture(scope="module")
def domain() -> Domain:
    return campus_domain()


def trackers_after_every_event(domain: Domain, with_domain_slots: bool = True):
    """(conversation, event, the tracker right after it) for every event of every conversation; without
    the domain's slots, a tracker makes each slot it is told about (Rasa's AnySlotDict)."""
    for name, events in conversations():
        tracker = DialogueStateTracker.from_events(f"web:{name}", [], slots=domain.slots if with_domain_slots else None)
        tracker.model_id, tracker.sender_source = "model-1", "tests"  # what a copy does not take
        for event in events:
            tracker.update(event)
            yield name, event, tracker


def state_of(tracker: DialogueStateTracker) -> dict:
    """Everything a tracker holds, slots by what each holds."""
    kept = {key: value for key, value in vars(tracker).items() if key not in ("slots", "events")}
    kept.pop(past_states.MEMO_ATTRIBUTE, None)  # bot/past_states.py's memo, not the tracker's state
    return {**kept, "events": list(tracker.events),
            "slots": {name: (type(slot), vars(slot)) for name, slot in tracker.slots.items()}}


def test_the_applied_events_are_rasas_after_every_event(domain):
    compared = 0
    for name, event, tracker in trackers_after_every_event(domain):
        ours, rasas = tracker_history.applied_events(tracker), RASAS_APPLIED_EVENTS(tracker)
        assert len(ours) == len(rasas) and all(a is b for a, b in zip(ours, rasas)), (name, event)
        compared += 1
    assert compared > 150


@pytest.mark.parametrize("with_domain_slots", [True, False])
def test_the_copy_is_rasas_after_every_event(domain, with_domain_slots):
    compared = 0
    for name, event, tracker in trackers_after_every_event(domain, with_domain_slots):
        ours, rasas = tracker_history.copied_without_replay(tracker), RASAS_COPY(tracker)
        assert state_of(ours) == state_of(rasas), (name, event)
        assert all(a is b for a, b in zip(ours.events, rasas.events))  # the same events, as a replay shares them
        assert (ours.model_id, ours.sender_source) == (None, None)
        compared += 1
    assert compared > 150


def test_what_the_action_does_to_the_copy_leaves_the_tracker_as_it_was(domain):
    tracker = DialogueStateTracker.from_events("web:t2001", [
        ActionExecuted("action_listen"), UserUttered("我要盖章", {"name": "start_matter", "confidence": 0.9}),
        SlotSet("matter_code", "SEAL"), ActionExecuted("matter_form"), ActiveLoop("matter_form")], slots=domain.slots)
    before = state_of(tracker)
    loop_before, action_before = dataclasses.asdict(tracker.active_loop), dict(tracker.latest_action)
    copied = tracker_history.copied_without_replay(tracker)
    copied.latest_action["action_name"] = "changed in place"
    for event in (LoopInterrupted(True), SlotSet("matter_code", "LEAVE")):  # the loop changed in place
        copied.update(event)
    assert copied.active_loop.is_interrupted and copied.get_slot("matter_code") == "LEAVE"
    assert state_of(tracker) == before and dataclasses.asdict(tracker.active_loop) == loop_before
    assert tracker.latest_action == action_before == {"action_name": "matter_form"}
    assert tracker.get_slot("matter_code") == "SEAL" and len(tracker.events) == 5


def test_a_tracker_keeping_only_its_last_events_is_copied_by_replay_as_rasa_does(domain):
    events = [ActionExecuted("action_listen"), SlotSet("matter_code", "SEAL"),
              UserUttered("我要盖章", {"name": "start_matter"}), ActionExecuted("utter_greet"),
              ActionExecuted("action_listen")]
    tracker = DialogueStateTracker.from_events("web:t2001", events, slots=domain.slots, max_event_history=3)
    # Its state came from the events it dropped: a replay of the last three forgets the slot.
    assert tracker.get_slot("matter_code") == "SEAL"
    assert state_of(tracker_history.copied_without_replay(tracker)) == state_of(RASAS_COPY(tracker))
    assert tracker_history.copied_without_replay(tracker).get_slot("matter_code") is None
