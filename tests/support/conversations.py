"""Conversations to replay onto Rasa trackers: the recorded trackers of tests/actions (form
loops included) and a few that rewrite their history (reverts, a rejected form, a restart, a new
session). Rasa is imported inside the functions: only the Rasa-side suites call them."""
from __future__ import annotations

import json
import warnings
from typing import Any

from devtools.stack import ROOT

def campus_domain() -> Any:
    """The assistant's domain (bot/domain), loaded the way Rasa loads it."""
    with warnings.catch_warnings():  # Rasa's imports warn about their own dependencies
        warnings.simplefilter("ignore")
        from rasa.shared.core.domain import Domain

        return Domain.load(str(ROOT / "bot/domain"))


RECORDED = json.loads((ROOT / "tests/actions/data/trackers.json").read_text(encoding="utf-8"))


def rewriting_conversations() -> dict[str, list]:
    from rasa.shared.core.events import (ActionExecuted, ActionExecutionRejected, ActionReverted, ActiveLoop,
                                         BotUttered, FollowupAction, Restarted, SessionStarted, SlotSet,
                                         UserUttered, UserUtteranceReverted)

    def said(text: str, intent: str) -> list:
        return [UserUttered(text, {"name": intent, "confidence": 0.9}), ]

    def acted(name: str, hide: bool = False) -> ActionExecuted:
        return ActionExecuted(name, hide_rule_turn=hide)

    listen = "action_listen"
    start = [acted("action_session_start"), SessionStarted(), acted(listen)]
    return {
        "a misunderstood message taken back": start + said("嗯嗯嗯", "nlu_fallback") + [
            acted("action_default_fallback"), BotUttered("没听懂"), UserUtteranceReverted(), acted(listen),
            *said("我的待办", "my_tasks"), acted("action_list_tasks", hide=True), acted(listen)],
        "an action reverted": start + said("你好", "greet") + [
            acted("utter_greet"), ActionReverted(), acted("utter_greet"), acted(listen)],
        "a form rejected, then filled": start + said("我要盖章", "start_matter") + [
            SlotSet("matter_code", "SEAL"), acted("matter_form"), ActiveLoop("matter_form"), acted(listen),
            *said("算了", "deny"), ActionExecutionRejected("matter_form"), acted("action_cancel_form", hide=True),
            ActiveLoop(None), acted(listen), *said("我要盖章", "start_matter"), acted("matter_form"),
            ActiveLoop("matter_form"), acted(listen), *said("两份", "inform"), acted("matter_form"),
            SlotSet("field_answer", "2"), ActiveLoop(None), FollowupAction("action_submit_application"),
            acted("action_submit_application"), acted(listen)],
        "restarted, then a new session": start + said("你好", "greet") + [
            acted("utter_greet"), acted(listen), Restarted(), acted(listen), *said("谢谢", "thank"),
            acted("utter_thank", hide=True), acted(listen), acted("action_session_start"), SessionStarted(),
            acted(listen), *said("再见", "goodbye"), acted("utter_goodbye"), acted(listen)],
    }


def conversations() -> list[tuple[str, list]]:
    from rasa.shared.core.events import Event

    recorded = [(name, [Event.from_parameters(e) for e in tracker["events"]]) for name, tracker in RECORDED.items()]
    return recorded + list(rewriting_conversations().items())
