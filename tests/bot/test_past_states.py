"""bot/past_states.py gives the same states as Rasa's ``Domain.states_for_tracker_history`` after
every event of real conversations (the recorded trackers of tests/actions, form loops included)
and of conversations that rewrite their history (reverts, a rejected form, a restart, a new
session), for every way the policies ask — while carrying on from the call before."""
from __future__ import annotations


import pytest

from tests.support.conversations import campus_domain, conversations


@pytest.fixture(scope="module")
def domain():
    return campus_domain()


ASKS = [(omit, ignore, rule_only) for omit in (False, True) for ignore in (False, True)
        for rule_only in (None, {"rule_only_slots": ["pending_confirmation"], "rule_only_loops": ["matter_form"]})]


def test_the_states_equal_rasas_after_every_event(domain):
    from rasa.shared.core.constants import PREVIOUS_ACTION, RULE_ONLY_LOOPS, RULE_ONLY_SLOTS
    from rasa.shared.core.trackers import DialogueStateTracker

    from bot import past_states

    assert past_states.PREVIOUS_ACTION == PREVIOUS_ACTION
    assert set(ASKS[-1][2]) == {RULE_ONLY_SLOTS, RULE_ONLY_LOOPS}
    compared = 0
    # Asked after every event, and after every few (a turn adds several events between asks: a
    # revert and what follows it arrive together, so the history changes without getting shorter).
    for (name, events), every in [(conversation, every) for conversation in conversations() for every in (1, 2, 3, 5)]:
        tracker = DialogueStateTracker.from_events(f"web:{name}", [], slots=domain.slots)
        for n, event in enumerate(events, start=1):
            tracker.update(event)
            if n % every and n != len(events):
                continue
            for omit, ignore, rule_only in ASKS:
                ours = past_states.past_states(tracker, domain, omit, ignore, rule_only)
                rasas = domain.states_for_tracker_history(tracker, omit, ignore, rule_only)
                assert ours == rasas, (name, event, omit, ignore, rule_only)
                compared += 1
        assert past_states.MEMO_ATTRIBUTE in tracker.__dict__  # it did carry on
    assert compared > 1000


def test_changing_what_it_returns_changes_nothing_kept(domain):
    from rasa.shared.core.events import ActionExecuted, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    from bot import past_states

    tracker = DialogueStateTracker.from_events("web:t1001", [ActionExecuted("action_listen"),
                                                             UserUttered("你好", {"name": "greet"}),
                                                             ActionExecuted("utter_greet")], slots=domain.slots)
    first = past_states.past_states(tracker, domain)
    for state in first:  # what Rasa's featurizers do to the last user input, for instance
        state.clear()
    assert past_states.past_states(tracker, domain) == domain.states_for_tracker_history(tracker)


def test_it_carries_on_when_each_ask_brings_a_new_but_equal_rule_only_dict(domain, monkeypatch):
    """RulePolicy builds its rule-only data afresh for every call (``_get_rule_only_data``): keyed by
    the dict's identity, every ask replayed the whole conversation."""
    from rasa.shared.core.events import ActionExecuted, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    from bot import past_states

    def rule_only() -> dict:
        return {"rule_only_slots": ["pending_confirmation"], "rule_only_loops": ["matter_form"]}

    steps = []
    real_step = past_states._step
    monkeypatch.setattr(past_states, "_step", lambda *args: steps.append(1) or real_step(*args))
    tracker = DialogueStateTracker.from_events("web:t1001", [], slots=domain.slots)
    for turn in range(20):
        for event in (ActionExecuted("action_listen"), UserUttered("你好", {"name": "greet", "confidence": 0.9}),
                      ActionExecuted("utter_greet")):
            tracker.update(event)
        steps.clear()
        ours = past_states.past_states(tracker, domain, False, True, rule_only())
        assert ours == domain.states_for_tracker_history(tracker, False, True, rule_only())
        # Two new actions and the tracker as it is now — not one step per action since the start.
        assert len(steps) <= 3, (turn, len(steps))
