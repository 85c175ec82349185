"""Attachment fields in chat.

Asking: the question says how to give a file — in WeCom send the picture or file itself; in
the web chat upload it on the matter's form page (a link; a typed file name is still taken, as
before) — and marks its message with ``attachment_question`` (custom data), from which the
WeCom channel knows that a file sent next answers it.

Answering: the WeCom channel has fetched the file from WeCom and uploaded it to the backend as
the member; the user message it sends carries the file in its metadata (``uploaded_files``:
``[{id, name}]``). The field takes the files' ids (the backend checks at submission that they
are the applicant's and not attached elsewhere).
"""
from __future__ import annotations

from typing import Any, Optional

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from .backend_client import BackendClient, BackendError

ATTACHMENT_QUESTION = "attachment_question"
NOT_NOW = "这个文件没有用上:当前的问题不需要附件,请直接回答下面的问题。"


def hint(matter_code: str) -> str:
    return (f"在企业微信中请直接发送图片或文件;网页对话中请到表单页面上传:/matters/{matter_code}"
            "(也可先输入文件名)")


def question_data(matter_code: str, field: dict[str, Any]) -> dict[str, Any]:
    """The custom data of the question's message."""
    return {ATTACHMENT_QUESTION: {"matter": matter_code, "field": field["key"], "label": field["label"]}}


def uploaded_files(tracker: Tracker) -> list[dict[str, Any]]:
    """The files the latest user message carries (the WeCom channel's uploads), if any."""
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            files = (event.get("metadata") or {}).get("uploaded_files")
            if not isinstance(files, list):
                return []
            return [f for f in files if isinstance(f, dict) and isinstance(f.get("id"), int)
                    and not isinstance(f.get("id"), bool) and isinstance(f.get("name"), str)]
    return []


async def take_files(api: BackendClient, who: str, schema: dict[str, Any], data: dict[str, Any],
                     step: dict[str, Any], files: list[dict[str, Any]], dispatcher: CollectingDispatcher,
                     approvers_key: str) -> Optional[dict[str, Any]]:
    """The new form data when the question is an attachment field (files added to any it
    holds), or None when it is not (the user is told, the question stays)."""
    field = step.get("field") if step["kind"] == "field" else None
    if field is None or field["type"] != "attachment":
        dispatcher.utter_message(text=NOT_NOW)
        return None
    held = data.get(step["key"])
    ids = (held if isinstance(held, list) else []) + [f["id"] for f in files]
    filled = {k: v for k, v in data.items() if k != approvers_key and v is not None}
    try:
        cleaned = await api.validate(who, schema["code"], {**filled, step["key"]: ids})
    except BackendError as problem:
        fields = problem.details.get("fields") or {}
        dispatcher.utter_message(text=f"{fields.get(step['key']) or problem.message},请重新发送。")
        return data
    names = "、".join(f"「{f['name']}」" for f in files)
    dispatcher.utter_message(text=f"已收到附件{names},作为「{field['label']}」。")
    return {**data, step["key"]: cleaned.get(step["key"], ids)}


def answer_text(field: dict[str, Any], value: Any, shown: Any) -> str:
    """An answer as the chat reads it back: uploaded files by count (their ids mean nothing to
    people; the form page and the task page list them by name), anything else as ``shown``."""
    if field["type"] == "attachment" and isinstance(value, list):
        return f"已上传 {len(value)} 个文件"
    return shown(value)
