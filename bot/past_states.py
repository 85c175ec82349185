"""The dialogue states of a tracker's history, carried on from the last call instead of replayed.

Before every prediction each policy asks for the tracker's past states (``tracker.past_states``
→ ``Domain.states_for_tracker_history``): Rasa replays the conversation's events from the start
onto a fresh tracker and computes a state before every action. A turn asks several times (the
memoization and the rule policy, each for every action it predicts), and every ask replays the
whole session: at 50 users with conversations of a few dozen turns ≈12 % of Rasa's CPU per turn,
growing with the conversation.

Here the replayed tracker and the states computed so far are kept on the tracker, one set per
way of asking (domain, whether rule-only turns are ignored, unset slots omitted, the rule-only
data), and a call only replays the events added since — as long as the events applied before
are still the same objects in the same order. Anything that rewrites the applied history (a
revert, a restart, a loop's rejected turn, a new session) makes it start again from the first
event, as Rasa does. The loop body is Rasa 3.6's ``Domain.states_for_tracker_history``, step by
step; tests/bot/test_past_states.py checks the result equals Rasa's for every prefix of real
conversations.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional

MEMO_ATTRIBUTE = "_campus_past_states"
PREVIOUS_ACTION = "prev_action"  # rasa.shared.core.constants.PREVIOUS_ACTION (checked by the tests)


@dataclass
class Progress:
    """Rasa's loop, stopped after ``applied`` events (states only at each action, as Rasa yields)."""
    domain: Any
    rule_only_data: Any
    replay: Any  # the tracker the applied events were replayed onto
    applied: list = field(default_factory=list)
    states: list = field(default_factory=list)
    last_ml_action_sub_state: Any = None
    turn_was_hidden: bool = False


def _step(progress: Progress, tracker: Any, hide_rule_turn: bool, omit_unset_slots: bool,
          ignore_rule_only_turns: bool, states: list) -> tuple[Optional[dict], Any, bool]:
    """One pass of Rasa's loop body for the tracker before an action: the state (None when the
    turn is hidden) and the loop's two variables after it."""
    domain = progress.domain
    last_ml, hidden = progress.last_ml_action_sub_state, progress.turn_was_hidden
    if ignore_rule_only_turns:
        if not hidden:
            last_ml = domain._get_prev_action_sub_state(tracker)
        if not tracker.followup_action and not tracker.latest_action_name == tracker.active_loop_name:
            hidden = hide_rule_turn
        if hidden:
            return None, last_ml, hidden
    state = domain.get_active_state(tracker, omit_unset_slots=omit_unset_slots)
    if ignore_rule_only_turns:
        domain._remove_rule_only_features(state, progress.rule_only_data)
        if states:
            domain._substitute_rule_only_user_input(state, states[-1])
        if last_ml:
            state[PREVIOUS_ACTION] = last_ml
    return domain._clean_state(state), last_ml, hidden


def _copied(state: dict) -> dict:
    """States are dicts of sub-state dicts of strings and tuples; callers change them in place."""
    return {name: dict(sub_state) for name, sub_state in state.items()}


def _frozen(rule_only_data: Optional[dict]) -> Optional[tuple]:
    """What the rule-only data says: RulePolicy builds a new dict for every call (its
    ``_get_rule_only_data``), so an identity check would replay the whole history every time."""
    if rule_only_data is None:
        return None
    return tuple(sorted((key, tuple(value)) for key, value in rule_only_data.items()))


def past_states(tracker: Any, domain: Any, omit_unset_slots: bool = False, ignore_rule_only_turns: bool = False,
                rule_only_data: Optional[dict] = None) -> list:
    """``DialogueStateTracker.past_states``, carried on from the previous call on this tracker."""
    from rasa.shared.core.events import ActionExecuted

    memo: dict = tracker.__dict__.setdefault(MEMO_ATTRIBUTE, {})
    frozen = _frozen(rule_only_data)
    key = (id(domain), frozen, omit_unset_slots, ignore_rule_only_turns)
    applied = tracker.applied_events()
    progress = memo.get(key)
    if (progress is None or progress.domain is not domain
            or len(progress.applied) > len(applied)
            or any(old is not new for old, new in zip(progress.applied, applied))):
        # A copy: the caller's dict may change after this call, the kept states must not.
        kept_rule_only = None if rule_only_data is None else {k: list(v) for k, v in rule_only_data.items()}
        progress = memo[key] = Progress(domain, kept_rule_only, tracker.init_copy())
    for event in applied[len(progress.applied):]:
        if isinstance(event, ActionExecuted):
            state, progress.last_ml_action_sub_state, progress.turn_was_hidden = _step(
                progress, progress.replay, event.hide_rule_turn, omit_unset_slots, ignore_rule_only_turns,
                progress.states)
            if state is not None:
                progress.states.append(state)
        progress.replay.update(event)
        progress.applied.append(event)
    # The tracker as it is now: its state is not kept, the next event may change it.
    final, _, _ = _step(progress, progress.replay, False, omit_unset_slots, ignore_rule_only_turns, progress.states)
    return [_copied(state) for state in progress.states] + ([final] if final is not None else [])
