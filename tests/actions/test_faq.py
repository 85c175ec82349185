"""The FAQ loop's actions on conversations as Rasa 3.6 sends them: the answer text fetched by
key (the domain's response when the backend cannot say), the caveat and the offer of a person
when unsure, 有帮助 / 没帮助, and the fallback recorded — a person offered at the second in a row."""
from __future__ import annotations

import functools
import warnings
from typing import Any, Optional

import pytest
import yaml
from rasa_sdk import Tracker

from actions.backend_client import BackendError, BackendUnavailable
from actions.faq import (
    CAVEAT, MISUNDERSTOOD_AGAIN, SORRY, THANKS, UNSURE_BELOW, ActionAnswerFaq, ActionDefaultFallback,
    ActionFaqFeedback, ActionOutOfScope, fallbacks_in_a_row,
)
from devtools.stack import ROOT
from tests.support.conversations import campus_domain

HELPFUL = ['/faq_feedback{"faq_helpful": "yes"}', '/faq_feedback{"faq_helpful": "no"}']
PERSON_UNSURE = '/request_human{"handoff_reason": "unsure"}'
PERSON_MISUNDERSTOOD = '/request_human{"handoff_reason": "misunderstood"}'


class FaqBackend:
    """The backend's FAQ answers and question records, in memory, answering as the backend does
    (tests/backend/e2e/test_faq_loop.py): a recorded answer comes back with its key's text.
    ``fail`` makes both calls raise it, ``refuse_record`` only the record."""

    def __init__(self) -> None:
        self.texts = {"faq/returned_what_next": "在【我的申请】中找到被退回的申请,点【编辑并重新提交】。"}
        self.recorded: list[tuple[Any, ...]] = []
        self.fail: Optional[Exception] = None
        self.refuse_record: Optional[Exception] = None
        self.answers_read = 0

    async def faq_answer(self, who: str, key: str) -> dict[str, Any]:
        self.answers_read += 1
        if self.fail:
            raise self.fail
        if key not in self.texts:
            raise BackendError(404, "faq_answer_not_found", "没有这条常见问题回答")
        return {"key": key, "text": self.texts[key], "edited": False}

    async def record_question(self, who, text, kind, predicted_key, confidence) -> dict[str, Any]:
        if self.fail or self.refuse_record:
            raise self.fail or self.refuse_record
        self.recorded.append((who, text, kind, predicted_key, confidence))
        held = kind in ("answered", "low_confidence") and predicted_key in self.texts
        answer = {"key": predicted_key, "text": self.texts[predicted_key], "edited": False} if held else None
        return {"id": len(self.recorded), "answer": answer}


@pytest.fixture
def backend() -> FaqBackend:
    return FaqBackend()


def parse(text: str, intent: str, key: Optional[str] = None, confidence: float = 0.95,
          entities: Optional[list[dict[str, Any]]] = None) -> dict[str, Any]:
    """Parse data as Rasa 3.6 gives it, with the ResponseSelector's pick for the faq retrieval intent."""
    data: dict[str, Any] = {"intent": {"name": intent, "confidence": 0.9}, "entities": entities or [], "text": text,
                            "message_id": "m", "metadata": {}, "intent_ranking": [{"name": intent, "confidence": 0.9}]}
    if key:
        data["response_selector"] = {"all_retrieval_intents": ["faq"], "faq": {
            "response": {"id": 1, "responses": [{"text": "…"}], "response_templates": [{"text": "…"}],
                         "confidence": confidence, "intent_response_key": key,
                         "utter_action": f"utter_{key}", "template_name": f"utter_{key}"},
            "ranking": [{"id": 1, "confidence": confidence, "intent_response_key": key}]}}
    return data


def conversation(*turns: tuple[dict[str, Any], list[str]], sender: str = "web:t2001",
                 slots: Optional[dict[str, Any]] = None, active_loop: Optional[str] = None) -> Tracker:
    """A tracker of user turns (parse data, then the actions that followed each, the last turn's
    followed by none yet: the action under test runs now)."""
    events: list[dict[str, Any]] = [{"event": "action", "name": "action_session_start"}, {"event": "session_started"},
                                    {"event": "action", "name": "action_listen"}]
    for parsed, actions in turns:
        events.append({"event": "user", "text": parsed["text"], "parse_data": parsed, "input_channel": "webchat"})
        for name in actions:
            events.append({"event": "rewind"} if name == "rewind" else {"event": "action", "name": name})
    return Tracker.from_dict({"sender_id": sender, "slots": slots or {}, "latest_message": turns[-1][0],
                              "events": events, "paused": False, "followup_action": None,
                              "active_loop": {"name": active_loop} if active_loop else {},
                              "latest_action": {"action_name": "action_listen"}, "latest_action_name": "action_listen"})


def payloads(message: dict[str, Any]) -> list[str]:
    return [b["payload"] for b in message.get("buttons") or []]


async def test_a_sure_answer_is_the_backends_text_with_helpful_buttons(run, backend):
    asked = parse("审批人退回了我该怎么办", "faq", "faq/returned_what_next", 0.93)
    result = await run(ActionAnswerFaq, conversation((asked, [])))
    assert result.texts == [backend.texts["faq/returned_what_next"]]
    assert payloads(result.messages[0]) == HELPFUL
    assert result.slots["faq_asked"] == {"text": "审批人退回了我该怎么办", "key": "faq/returned_what_next",
                                         "confidence": 0.93}
    # Counted for the weekly figures (not a question for the console), the text read with the record.
    assert backend.recorded == [("web:t2001", "审批人退回了我该怎么办", "answered", "faq/returned_what_next", 0.93)]
    assert backend.answers_read == 0


async def test_a_refused_record_still_answers_with_the_backends_text(run, backend):
    backend.refuse_record = BackendError(400, "bad_text", "text 不能为空")
    result = await run(ActionAnswerFaq, conversation((parse("被退回了怎么办", "faq", "faq/returned_what_next"), [])))
    assert result.texts == [backend.texts["faq/returned_what_next"]] and backend.answers_read == 1


async def test_an_edited_text_is_served_at_the_next_answer(run, backend):
    asked = conversation((parse("被退回了怎么办", "faq", "faq/returned_what_next"), []))
    await run(ActionAnswerFaq, asked)
    backend.texts["faq/returned_what_next"] = "新的回答"
    assert (await run(ActionAnswerFaq, asked)).texts == ["新的回答"]


async def test_an_unsure_answer_has_a_caveat_is_recorded_and_offers_a_person(run, backend):
    low = UNSURE_BELOW - 0.1
    result = await run(ActionAnswerFaq, conversation(
        (parse("退回以后还能改吗", "faq", "faq/returned_what_next", low), []), sender="wecom:zhangwei"))
    assert result.texts == [CAVEAT, backend.texts["faq/returned_what_next"]]
    assert payloads(result.messages[1]) == HELPFUL + [PERSON_UNSURE]
    assert backend.recorded == [("wecom:zhangwei", "退回以后还能改吗", "low_confidence", "faq/returned_what_next", low)]


@pytest.mark.parametrize("failure", [BackendUnavailable("down"), BackendError(403, "identity_not_bound", "未绑定")])
async def test_without_the_backend_the_domain_response_answers(run, backend, failure):
    backend.fail = failure
    result = await run(ActionAnswerFaq, conversation((parse("网址是多少", "faq", "faq/open_site"), [])))
    assert [m.get("response") for m in result.messages] == ["utter_faq/open_site"]
    assert payloads(result.messages[0]) == HELPFUL


async def test_a_key_the_backend_does_not_hold_answers_from_the_domain(run):
    result = await run(ActionAnswerFaq, conversation((parse("网址是多少", "faq", "faq/open_site"), [])))
    assert [m.get("response") for m in result.messages] == ["utter_faq/open_site"]


async def test_inside_a_form_the_answer_has_no_buttons(run, backend):
    result = await run(ActionAnswerFaq, conversation(
        (parse("被退回了怎么办", "faq", "faq/returned_what_next"), []), active_loop="matter_form"))
    assert result.texts == [backend.texts["faq/returned_what_next"]] and not result.messages[0].get("buttons")
    assert result.events == []


def feedback(value: str) -> dict[str, Any]:
    return parse(f'/faq_feedback{{"faq_helpful": "{value}"}}', "faq_feedback",
                 entities=[{"entity": "faq_helpful", "value": value}])


ASKED = {"text": "被退回了怎么办", "key": "faq/returned_what_next", "confidence": 0.8}


async def test_not_helpful_is_recorded_once_and_offers_a_person(run, backend):
    result = await run(ActionFaqFeedback, conversation((feedback("no"), []), slots={"faq_asked": ASKED}))
    assert result.texts == [SORRY] and payloads(result.messages[0]) == [PERSON_UNSURE]
    assert backend.recorded == [("web:t2001", "被退回了怎么办", "not_helpful", "faq/returned_what_next", 0.8)]
    assert result.slots == {"faq_asked": None}
    await run(ActionFaqFeedback, conversation((feedback("no"), []), slots={"faq_asked": None}))
    assert len(backend.recorded) == 1


async def test_helpful_is_thanked_and_not_recorded(run, backend):
    result = await run(ActionFaqFeedback, conversation((feedback("yes"), []), slots={"faq_asked": ASKED}))
    assert result.texts == [THANKS] and backend.recorded == []


async def test_a_failed_record_does_not_fail_the_answer(run, backend):
    backend.fail = BackendUnavailable("down")
    result = await run(ActionFaqFeedback, conversation((feedback("no"), []), slots={"faq_asked": ASKED}))
    assert result.texts == [SORRY]


NOT_UNDERSTOOD = parse("那个东西咋整", "nlu_fallback", "faq/open_site", 0.2)
GREETED = parse("你好", "greet")


async def test_a_first_fallback_is_recorded_and_asks_to_rephrase(run, backend):
    result = await run(ActionDefaultFallback, conversation((GREETED, ["utter_greet", "action_listen"]),
                                                           (NOT_UNDERSTOOD, [])))
    assert [m.get("response") for m in result.messages] == ["utter_default"]
    assert backend.recorded == [("web:t2001", "那个东西咋整", "fallback", "faq/open_site", 0.2)]
    assert result.events == []  # the nlu_fallback rule listens next


async def test_the_second_fallback_in_a_row_offers_a_person(run, backend):
    again = parse("就是那个啊", "nlu_fallback")
    result = await run(ActionDefaultFallback, conversation(
        (NOT_UNDERSTOOD, ["action_default_fallback", "action_listen"]), (again, [])))
    assert result.texts == [MISUNDERSTOOD_AGAIN] and payloads(result.messages[0]) == [PERSON_MISUNDERSTOOD]
    assert [r[1:3] for r in backend.recorded] == [("就是那个啊", "fallback")]


async def test_the_rule_policys_fallback_takes_the_message_back_as_rasas_own_does(run):
    understood_but_lost = parse("好的", "affirm")
    result = await run(ActionDefaultFallback, conversation((understood_but_lost, [])))
    assert [e["event"] for e in result.events] == ["rewind"]


def test_fallbacks_in_a_row_count_reverted_ones_and_stop_at_an_understood_message():
    tracker = conversation((NOT_UNDERSTOOD, ["action_default_fallback", "rewind"]),
                           (GREETED, ["utter_greet", "action_listen"]),
                           (NOT_UNDERSTOOD, ["action_default_fallback", "rewind"]),
                           (NOT_UNDERSTOOD, ["action_default_fallback", "action_listen"]),
                           (NOT_UNDERSTOOD, []))
    assert fallbacks_in_a_row(tracker) == 3
    assert fallbacks_in_a_row(conversation((GREETED, ["utter_greet"]), (NOT_UNDERSTOOD, []))) == 1


OUT_OF_SCOPE = parse("今天天气怎么样", "out_of_scope")


@functools.lru_cache(maxsize=1)
def domain_and_generator() -> tuple[Any, Any]:
    """The assistant's domain (bot/domain) and Rasa's templated NLG over its responses."""
    domain = campus_domain()
    with warnings.catch_warnings():  # Rasa's imports warn about their own dependencies
        warnings.simplefilter("ignore")
        from rasa.core.nlg import TemplatedNaturalLanguageGenerator

    return domain, TemplatedNaturalLanguageGenerator(domain.responses)


async def rendered(message: dict[str, Any]) -> str:
    """The text Rasa's templated NLG makes of a message that names a domain response."""
    from rasa.shared.core.trackers import DialogueStateTracker

    domain, generator = domain_and_generator()
    kwargs = {k: v for k, v in message.items() if k not in ("response", "text", "buttons", "elements", "custom",
                                                                "template", "image", "attachment", "json_message")}
    generated = await generator.generate(message["response"], DialogueStateTracker("t", domain.slots), "rest", **kwargs)
    return generated["text"]


def test_responses_with_the_help_desk_number_are_said_only_by_actions():
    """A rule or story step that says such a response itself would show its ``{helpdesk_phone}`` as is."""
    domain, _ = domain_and_generator()
    numbered = {name for name, variants in domain.responses.items()
                if any("{helpdesk_phone}" in (variant.get("text") or "") for variant in variants)}
    assert numbered >= {"utter_out_of_scope", "utter_default"}
    steps = [step.get("action") for path in [*(ROOT / "data").rglob("*.yml"), ROOT / "tests" / "stories" / "test_stories.yml"]
             for section in ("rules", "stories")
             for flow in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get(section) or []
             for step in flow.get("steps") or []]
    assert steps and not numbered & set(steps), numbered & set(steps)


@pytest.mark.parametrize("action, said", [(ActionOutOfScope, OUT_OF_SCOPE), (ActionDefaultFallback, NOT_UNDERSTOOD)])
async def test_what_the_assistant_cannot_handle_gives_the_configured_help_desk_number(run, backend, services,
                                                                                    action, said):
    configured = services.settings.helpdesk_phone
    assert configured != "87150044"  # the tests' settings: finding it proves the setting was used
    result = await run(action, conversation((GREETED, ["utter_greet", "action_listen"]), (said, [])))
    assert len(result.messages) == 1
    text = await rendered(result.messages[0])
    assert configured in text and "87150044" not in text and "{" not in text, text
