"""How-to answers served from the backend, and the unanswered-question loop.

``action_answer_faq`` answers the ResponseSelector's pick (``faq/<name>``) with the text the
backend holds for that key — 服务台 staff edit it there, so an edit is served at the next answer,
without retraining (no cache). When the backend cannot say (down, the person not bound, the
key not imported yet) the domain's ``utter_faq/<name>`` answers instead. Below
``UNSURE_BELOW`` the answer comes with a caveat, is recorded and a person is offered; otherwise
有帮助 / 没帮助 buttons follow, and 没帮助 is recorded with a person offered.
``action_default_fallback`` (Rasa's name, so both the nlu_fallback rule and the rule policy's
core fallback run it) records the message; the second in a row offers a person.
Recording is best effort: a failure is logged and the conversation goes on.
"""
from __future__ import annotations

import logging
from typing import Any, Optional

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet, UserUtteranceReverted
from rasa_sdk.executor import CollectingDispatcher

from .backend_client import BackendError, BackendUnavailable
from .base import NamedAction
from .identity import identity_of

log = logging.getLogger(__name__)

# The selector's confidence below which an answer is "unsure". Measured on the held-out split
# (245 FAQ examples, the model of 2026-12-01): 238 answered right, 7 wrong. Below 0.5 are 3 of
# the 7 wrong ones and 15 of the 238 right ones (6 % get a needless caveat); 0.6 catches no
# more wrong ones and flags 7 more right ones, 0.4 catches only 1.
UNSURE_BELOW = 0.5
ASKED = "faq_asked"  # slot: the last answered question, for its 有帮助 / 没帮助
FALLBACK = "action_default_fallback"

CAVEAT = "我不太确定这是否回答了您的问题,以下内容供参考:"
HELPFUL_BUTTONS = [{"title": "有帮助", "payload": '/faq_feedback{"faq_helpful": "yes"}'},
                   {"title": "没帮助", "payload": '/faq_feedback{"faq_helpful": "no"}'}]
THANKS = "很高兴能帮到您。"
SORRY = "抱歉没能帮上忙。您的问题已经记下,服务台会完善这条回答。需要的话可以转人工,请服务台的老师为您解答:"
MISUNDERSTOOD_AGAIN = "抱歉,我还是没能理解您的意思。您可以换个说法,也可以转人工,请服务台的老师为您解答:"


def person_button(reason: str) -> dict[str, str]:
    """The offer of a person (the handoff's intent request_human; reason misunderstood / unsure)."""
    return {"title": "转人工", "payload": f'/request_human{{"handoff_reason": "{reason}"}}'}


def selected(tracker: Tracker) -> tuple[Optional[str], Optional[float]]:
    """The ResponseSelector's pick for the latest message: (``faq/<name>``, confidence)."""
    response = ((tracker.latest_message.get("response_selector") or {}).get("faq") or {}).get("response") or {}
    key, confidence = response.get("intent_response_key"), response.get("confidence")
    return (key if isinstance(key, str) and key.startswith("faq/") else None,
            float(confidence) if isinstance(confidence, (int, float)) else None)


def fallbacks_in_a_row(tracker: Tracker) -> int:
    """How many user messages in a row, the latest included, got the fallback (the latest always does:
    this runs inside the fallback). Read from every event, reverted ones too."""
    streak, fell_back = 0, False
    for event in reversed(tracker.events):
        if event.get("event") == "action" and event.get("name") == FALLBACK:
            fell_back = True
        elif event.get("event") == "user":
            if streak and not fell_back:
                break
            streak, fell_back = streak + 1, False
    return max(streak, 1)


class FaqLoopAction(NamedAction):
    """Shared by the three: recording a question without failing the turn (no identity needed to
    answer, unlike BaseAction)."""

    async def recorded(self, tracker: Tracker, text: Optional[str], kind: str, key: Optional[str],
                       confidence: Optional[float]) -> Optional[dict[str, Any]]:
        """The backend's reply to recording what the person said (with an answered one, the key's
        text); None when there is nobody to record it for or nothing said. Raises the backend's errors."""
        who = identity_of(tracker)
        if who is None or not text or not text.strip():
            return None
        return await self.api.record_question(who, text.strip()[:500], kind, key, confidence)

    async def record(self, tracker: Tracker, text: Optional[str], kind: str, key: Optional[str],
                     confidence: Optional[float]) -> None:
        try:
            await self.recorded(tracker, text, kind, key, confidence)
        except (BackendUnavailable, BackendError) as error:
            log.warning("question not recorded (%s): %s", kind, error)


class ActionAnswerFaq(FaqLoopAction):
    action_name = "action_answer_faq"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[dict]:
        key, confidence = selected(tracker)
        text = tracker.latest_message.get("text") or ""
        if key is None:
            self.say_response(dispatcher, "utter_default")
            await self.record(tracker, text, "fallback", None, confidence)
            return []
        unsure = confidence is not None and confidence < UNSURE_BELOW
        in_form = bool((tracker.active_loop or {}).get("name"))
        # Inside a form the form's next question follows: no buttons to answer in between.
        buttons = [] if in_form else HELPFUL_BUTTONS + ([person_button("unsure")] if unsure else [])
        if unsure:
            dispatcher.utter_message(text=CAVEAT)
        answer = await self.recorded_answer(tracker, text, "low_confidence" if unsure else "answered", key, confidence)
        if answer is None:
            dispatcher.utter_message(response=f"utter_{key}", buttons=buttons or None)
        else:
            dispatcher.utter_message(text=answer, buttons=buttons or None)
        return [] if in_form else [SlotSet(ASKED, {"text": text, "key": key, "confidence": confidence})]

    async def recorded_answer(self, tracker: Tracker, text: str, kind: str, key: str,
                              confidence: Optional[float]) -> Optional[str]:
        """The backend's text for ``key``, None for the domain's. A sure answer is recorded too (the
        console's weekly figures count what the assistant answered), and the record comes back with
        the text: one round trip per answer."""
        try:
            recorded = await self.recorded(tracker, text, kind, key, confidence)
        except BackendUnavailable as error:
            log.warning("answer %s from the domain: %s", key, error)
            return None
        except BackendError as error:  # the record refused (never expected): the answer still counts
            log.warning("question not recorded (%s): %s", kind, error)
            return await self.answer_text(tracker, key)
        return ((recorded or {}).get("answer") or {}).get("text")

    async def answer_text(self, tracker: Tracker, key: str) -> Optional[str]:
        who = identity_of(tracker)
        if who is None:
            return None
        try:
            return (await self.api.faq_answer(who, key))["text"]
        except (BackendUnavailable, BackendError) as error:
            log.warning("answer %s from the domain: %s", key, error)
            return None


class ActionFaqFeedback(FaqLoopAction):
    action_name = "action_faq_feedback"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[dict]:
        helpful = next(tracker.get_latest_entity_values("faq_helpful"), None)
        asked = tracker.get_slot(ASKED)
        if helpful == "yes":
            dispatcher.utter_message(text=THANKS)
        else:
            if isinstance(asked, dict):  # once per answer: a second 没帮助 finds the slot empty
                await self.record(tracker, asked.get("text"), "not_helpful", asked.get("key"), asked.get("confidence"))
            dispatcher.utter_message(text=SORRY, buttons=[person_button("unsure")])
        return [SlotSet(ASKED, None)]


class ActionOutOfScope(NamedAction):
    """What the assistant does not handle: the domain's reply, with the help desk's number (a rule
    saying the response itself would leave its ``{helpdesk_phone}`` unfilled)."""

    action_name = "action_out_of_scope"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[dict]:
        self.say_response(dispatcher, "utter_out_of_scope")
        return []


class ActionDefaultFallback(FaqLoopAction):
    """Replaces Rasa's own: the same reply (utter_default) and, for the rule policy's fallback,
    the same revert of the message; recorded, and a person offered at the second in a row."""

    action_name = FALLBACK

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[dict]:
        key, confidence = selected(tracker)
        await self.record(tracker, tracker.latest_message.get("text"), "fallback", key, confidence)
        if fallbacks_in_a_row(tracker) >= 2:
            dispatcher.utter_message(text=MISUNDERSTOOD_AGAIN, buttons=[person_button("misunderstood")])
        else:
            self.say_response(dispatcher, "utter_default")
        # The nlu_fallback rule listens next by itself; the rule policy's fallback (no rule for an
        # understood message) needs the message taken back, as Rasa's own fallback does.
        nlu_fallback = (tracker.latest_message.get("intent") or {}).get("name") == "nlu_fallback"
        return [] if nlu_fallback else [UserUtteranceReverted()]
