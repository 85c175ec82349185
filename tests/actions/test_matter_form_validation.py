"""The form's validator (validate_matter_form) on recorded trackers: 张伟 fills in the seal
request (印章类型, 文件名称 answered); each answer is converted, checked by the backend, kept
or refused with the backend's reason. Schemas come from the fake backend (conftest.py)."""
from dataclasses import replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from rasa_sdk.executor import CollectingDispatcher

from actions.matter_form import PAYLOAD_IS_NO_ANSWER, ValidateMatterForm
from actions.wiring import Services

# The part of the domain Rasa sends this validator (send_domain: true in bot/domain/core.yml).
DOMAIN = {"forms": {"matter_form": {"required_slots": ["field_answer"]}},
          "slots": {name: {"type": "any", "mappings": [{"type": "custom"}]}
                    for name in ("matter_code", "form_data", "prefill", "resubmit_id", "field_answer")}}
ANSWERED = {"seal_type": "学校公章", "document_name": "2026年合作协议"}


async def test_an_answer_is_converted_and_kept_and_the_slot_cleared_for_the_next_question(run, recorded):
    result = await run(ValidateMatterForm, recorded("form_copies_answered"), DOMAIN)
    assert result.messages == []
    assert result.slots["form_data"] == {**ANSWERED, "copies": 2}
    assert result.slots["field_answer"] is None


async def test_an_answer_the_backend_refuses_is_asked_again_with_its_reason(run, recorded, backend):
    backend.field_errors["copies"] = "「用印份数」不能小于 1"  # the backend's words (data/backend_answers.json)
    result = await run(ValidateMatterForm, recorded("form_copies_refused"), DOMAIN)
    assert result.texts == ["「用印份数」不能小于 1,请重新输入。"]
    assert result.slots["form_data"] == ANSWERED and result.slots["field_answer"] is None


async def test_a_date_is_read_in_the_colleges_time_zone_from_the_settings(recorded, backend, services):
    for zone in ("Pacific/Kiritimati", "Pacific/Pago_Pago"):  # UTC+14 and UTC-11: never the same day
        settings = replace(services.settings, college_tz=ZoneInfo(zone))
        dispatcher = CollectingDispatcher()
        events = await ValidateMatterForm(Services(settings, backend)).run(
            dispatcher, recorded("form_date_answered"), DOMAIN)
        form_data = next(e["value"] for e in events if e.get("name") == "form_data")
        assert form_data["use_date"] == (datetime.now(ZoneInfo(zone)) + timedelta(days=1)).date().isoformat(), zone


async def test_a_button_of_an_earlier_message_is_no_answer(run, recorded):
    result = await run(ValidateMatterForm, recorded("form_old_button_clicked"), DOMAIN)
    assert result.texts == [PAYLOAD_IS_NO_ANSWER]
    assert "form_data" not in result.slots and result.slots["field_answer"] is None
