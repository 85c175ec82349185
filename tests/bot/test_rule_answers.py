"""bot/rasa_patches.py fix 15: RulePolicy's rules that apply, remembered per the conversation's last
states, are Rasa's own answer after every event of real and history-rewriting conversations, for
both rule tables of the trained model (models/campus.tar.gz)."""
from __future__ import annotations

import functools
import json
import tarfile
import warnings

import pytest

from devtools.stack import MODEL
from tests.support.conversations import campus_domain, conversations

with warnings.catch_warnings():  # Rasa's imports warn about their own dependencies
    warnings.simplefilter("ignore")
    from rasa.core.policies.rule_policy import RulePolicy
    from rasa.engine.graph import ExecutionContext, GraphSchema
    from rasa.engine.storage.local_model_storage import LocalModelStorage
    from rasa.engine.storage.resource import Resource
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import ActionExecuted, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

from bot import rasa_patches

RASAS = RulePolicy.__dict__["_get_possible_keys"]  # as shipped, whatever a test's apply did since


@functools.lru_cache(maxsize=1)
def trained() -> dict[str, dict]:
    """The trained model's RulePolicy files (rule_policy.json, rule_only_data.json), read in one pass
    over the archive (each look-up of a member decompresses it from the start)."""
    found = {}
    with tarfile.open(MODEL) as model:
        for member in model:
            name = member.name.rpartition("/")[2]
            if "RulePolicy" in member.name and name in ("rule_policy.json", "rule_only_data.json"):
                found[name] = json.load(model.extractfile(member))
    return found


@pytest.fixture(scope="module")
def policy(tmp_path_factory) -> RulePolicy:
    lookup = trained()["rule_policy.json"]["lookup"]
    return RulePolicy(RulePolicy.get_default_config(), LocalModelStorage(tmp_path_factory.mktemp("storage")),
                      Resource("rules"), ExecutionContext(GraphSchema({}), "test"), lookup=lookup)


@pytest.fixture(scope="module")
def domain() -> Domain:
    return campus_domain()


def states_after_every_event(domain: Domain):
    """The states RulePolicy predicts from (rule-only turns ignored), after each event."""
    rule_only = trained()["rule_only_data.json"]
    for name, events in conversations():
        tracker = DialogueStateTracker.from_events(f"web:{name}", [], slots=domain.slots)
        for event in events:
            tracker.update(event)
            yield name, domain.states_for_tracker_history(tracker, False, True, rule_only)


def test_the_rules_that_apply_are_rasas_after_every_event(policy, domain):
    remembered = rasa_patches.remembering_applicable_rules(RASAS)
    compared = 0
    for _ in range(2):  # computed, then remembered
        for name, states in states_after_every_event(domain):
            for table in ("rules", "rules_for_loop_unhappy_path"):
                lookup = policy.lookup[table]
                assert remembered(policy, lookup, states) == RASAS(policy, lookup, states), (name, table, states[-3:])
                compared += 1
    assert compared > 600
    answers = vars(policy)[rasa_patches.RULE_ANSWERS_ATTRIBUTE][id(policy.lookup["rules"])]
    assert answers.longest == 3 and 10 < len(answers.kept) < compared / 4  # conversations end alike


def test_a_new_rule_table_and_an_unhashable_state_are_answered_rasas_way(policy, domain):
    remembered = rasa_patches.remembering_applicable_rules(RASAS)
    tracker = DialogueStateTracker.from_events(
        "web:t2001", [ActionExecuted("action_listen"), UserUttered("你好", {"name": "greet"})], slots=domain.slots)
    states = domain.states_for_tracker_history(tracker, False, True)
    rules = dict(policy.lookup["rules"])
    found = remembered(policy, rules, states)
    assert found and found == RASAS(policy, rules, states)
    dropped = next(iter(found))
    del rules[dropped]  # the same table, changed: what was kept is not used
    assert dropped not in remembered(policy, rules, states)
    assert remembered(policy, rules, states) == RASAS(policy, rules, states)
    odd = [dict(state, user={**state.get("user", {}), "entities": ["a", "list"]}) for state in states]
    assert remembered(policy, rules, odd) == RASAS(policy, rules, odd)


def test_every_state_a_rule_reaches_back_to_decides(policy):
    """The rules of the longest length: each applies to its own states, and not once its first state
    is another — asked after the first, the answer kept for the first must not be given."""
    remembered = rasa_patches.remembering_applicable_rules(RASAS)
    rules = policy.lookup["rules"]
    longest = max(len(json.loads(key)) for key in rules)
    reaching_back = [key for key in rules if len(json.loads(key)) == longest]
    assert reaching_back
    for key in reaching_back:
        states = [{name: {k: tuple(v) if isinstance(v, list) else v for k, v in sub.items()}
                   for name, sub in state.items()} for state in json.loads(key)]
        altered = [{**states[0], "prev_action": {"action_name": "action_no_such"}}] + states[1:]
        assert key in RASAS(policy, rules, states) and key not in RASAS(policy, rules, altered)
        assert remembered(policy, rules, states) == RASAS(policy, rules, states)
        assert remembered(policy, rules, altered) == RASAS(policy, rules, altered), key
