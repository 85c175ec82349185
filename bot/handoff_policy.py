"""While a person of the help desk handles a conversation, the assistant stays silent for it.

Slot ``handoff_active`` (set by ``action_start_handoff``, unset when the help desk hands the
conversation back): every message the person writes is relayed (``action_relay_to_helpdesk``,
which says nothing) and the assistant listens again. Slot ``ticket_pending`` (outside service
hours): the next message becomes a ticket (``action_leave_ticket``). Rules would otherwise
answer; this policy outranks them (priority 7 in config.yml, RulePolicy has 6). Notifications
the backend pushes (EXTERNAL_…) and Rasa's own /restart still run as always.
"""
from __future__ import annotations

from typing import Any, Optional

from rasa.core.policies.policy import Policy, PolicyPrediction
from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.trackers import DialogueStateTracker

RELAY, LEAVE_TICKET = "action_relay_to_helpdesk", "action_leave_ticket"
NOT_RELAYED = ("restart", "session_start", "back")  # Rasa's default intents keep their meaning


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.POLICY_WITHOUT_END_TO_END_SUPPORT, is_trainable=False)
class HandoffPolicy(Policy):
    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {"priority": 7}

    def train(self, training_trackers: list, domain: Domain, **kwargs: Any) -> Resource:
        return self._resource  # nothing to learn: it follows two slots

    @classmethod
    def load(cls, config: dict[str, Any], model_storage: ModelStorage, resource: Resource,
             execution_context: ExecutionContext, **kwargs: Any) -> "HandoffPolicy":
        return cls(config, model_storage, resource, execution_context)

    def predict_action_probabilities(self, tracker: DialogueStateTracker, domain: Domain,
                                     rule_only_data: Optional[dict[str, Any]] = None,
                                     **kwargs: Any) -> PolicyPrediction:
        probabilities = self._default_predictions(domain)
        action = next_action(tracker)
        if action is not None:
            probabilities[domain.index_for_action(action)] = 1.0
        return self._prediction(probabilities)


def next_action(tracker: DialogueStateTracker) -> Optional[str]:
    """What to do next in this conversation, or None (the other policies decide)."""
    last = tracker.latest_action_name
    if last in (RELAY, LEAVE_TICKET):
        # Listen, even when the action just cleared its slot: left to the others, the core
        # fallback would answer and revert the turn (the cleared slot with it).
        return ACTION_LISTEN_NAME
    relaying = bool(tracker.get_slot("handoff_active"))
    leaving = bool(tracker.get_slot("ticket_pending"))
    if not (relaying or leaving) or last != ACTION_LISTEN_NAME:
        return None
    message = tracker.latest_message
    intent = ((message.intent if message else None) or {}).get("name") or ""
    if intent.startswith("EXTERNAL_") or intent in NOT_RELAYED:
        return None
    return RELAY if relaying else LEAVE_TICKET
