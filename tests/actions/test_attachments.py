"""Attachment fields in chat (actions/attachments.py): the question tells how to give a file
and marks itself for the WeCom channel; a file the channel uploaded (the user message's
metadata) answers an attachment question, and only that."""
import copy
import json
from pathlib import Path

from rasa_sdk import Tracker

from actions.matter_form import ActionAskFieldAnswer, ValidateMatterForm

TRACKERS = json.loads((Path(__file__).parent / "data" / "trackers.json").read_text(encoding="utf-8"))
# The part of the domain Rasa sends the validator (as in test_matter_form_validation.py).
DOMAIN = {"forms": {"matter_form": {"required_slots": ["field_answer"]}},
          "slots": {name: {"type": "any", "mappings": [{"type": "custom"}]}
                    for name in ("matter_code", "form_data", "prefill", "resubmit_id", "field_answer")}}

BEFORE_DOCUMENT = {"seal_type": "学校公章", "document_name": "2026年合作协议", "copies": 2,
                   "use_date": "2026-12-30", "purpose": "签订演出合作协议"}


def at_document(_recorded, form_data=BEFORE_DOCUMENT, files=None, text="附件:IMG_0001.jpg"):
    """张伟's seal request with every field before 用印文件 answered; his last message ``text``,
    carrying ``files`` as the WeCom channel sends them."""
    state = copy.deepcopy(TRACKERS["form_copies_answered"])
    state["slots"].update(form_data=dict(form_data), field_answer=text)
    state["latest_message"]["text"] = text
    user = next(e for e in reversed(state["events"]) if e.get("event") == "user")
    user["text"], user["metadata"] = text, ({"uploaded_files": files} if files is not None else {})
    for event in state["events"]:  # the form's slot, filled from the text as Rasa does
        if event.get("event") == "slot" and event.get("name") == "field_answer" and event.get("value"):
            event["value"] = text
    return Tracker.from_dict(state)


async def test_the_attachment_question_says_how_and_marks_itself_for_the_channel(run, recorded):
    result = await run(ActionAskFieldAnswer, at_document(recorded))
    [message] = result.messages
    assert "用印文件" in message["text"] and "直接发送图片或文件" in message["text"]
    assert "/matters/seal_usage" in message["text"]  # the web chat's way: the form page
    assert message["custom"] == {"attachment_question": {"matter": "seal_usage", "field": "document",
                                                         "label": "用印文件"}}


async def test_another_question_is_not_marked(run, recorded):
    result = await run(ActionAskFieldAnswer, recorded("form_copies_answered"))
    assert all(not m.get("custom") for m in result.messages)


async def test_a_file_sent_to_the_attachment_question_answers_it_with_its_id(run, recorded, backend):
    result = await run(ValidateMatterForm, at_document(recorded, files=[{"id": 41, "name": "IMG_0001.jpg"}]), DOMAIN)
    assert result.slots["form_data"] == {**BEFORE_DOCUMENT, "document": [41]}
    assert result.texts == ["已收到附件「IMG_0001.jpg」,作为「用印文件」。"]


async def test_a_file_sent_to_another_question_is_not_taken(run, recorded):
    before = {k: v for k, v in BEFORE_DOCUMENT.items() if k != "purpose"}  # asking 用印事由 (text)
    result = await run(ValidateMatterForm, at_document(recorded, before, files=[{"id": 41, "name": "a.jpg"}]), DOMAIN)
    assert result.slots["form_data"] == before  # the file's text is not taken as the 事由 either
    assert "不需要附件" in result.texts[0]


async def test_a_file_the_backend_refuses_is_asked_again(run, recorded, backend):
    backend.field_errors["document"] = "「用印文件」没有找到附件 41(请重新上传)"
    result = await run(ValidateMatterForm, at_document(recorded, files=[{"id": 41, "name": "a.jpg"}]), DOMAIN)
    assert result.slots["form_data"] == BEFORE_DOCUMENT
    assert result.texts == ["「用印文件」没有找到附件 41(请重新上传),请重新发送。"]


async def test_a_typed_file_name_is_still_taken_in_the_web_chat(run, recorded):
    result = await run(ValidateMatterForm, at_document(recorded, text="合作协议.pdf"), DOMAIN)
    assert result.slots["form_data"] == {**BEFORE_DOCUMENT, "document": "合作协议.pdf"}


def test_uploaded_files_are_read_back_by_count():
    from actions.attachments import answer_text
    from actions.render import shown
    field = {"key": "document", "label": "用印文件", "type": "attachment"}
    assert answer_text(field, [41, 42], shown) == "已上传 2 个文件"
    assert answer_text(field, "合作协议.pdf", shown) == "合作协议.pdf"
    assert answer_text({"key": "copies", "label": "份数", "type": "number"}, 2, shown) == "2"
