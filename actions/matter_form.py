"""The schema-driven form: one Rasa form whose questions come from the backend.

A matter's fields are fetched at run time (``GET /matters/{code}``), so adding a matter
in the backend needs no retraining. The form has a single slot, ``field_answer``; the
answers collected so far live in ``form_data`` ({field key: value}, plus the
选择审核人 choices under ``APPROVERS``). Each answer is converted (choices, Chinese
numbers and dates, people by name) and checked with the backend's own rules before the
next question is asked.
"""
from __future__ import annotations

import hashlib
import json
import re
import time
from datetime import datetime, tzinfo
from typing import Any, Optional

from rasa_sdk import FormValidationAction, Tracker
from rasa_sdk.events import ActiveLoop, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from . import text as parse
from .attachments import hint as attachment_hint
from .attachments import answer_text, question_data, take_files, uploaded_files
from .backend_client import BackendClient, BackendError, BackendUnavailable
from .base import BaseAction, UserFacingError
from .chinese_time import mentioned, normalize_for_field
from .identity import identity_of
from .matter_switch import (LEFT_SLOT, SWITCH_SLOT, fate, left_behind, offer, reply_to_offer, requested_matter,
                            switch_request, taken_up)
from .render import shown
from .said import said_answers
from .wiring import UsesServices

APPROVERS = "__approvers__"
SKIP_WORDS = {"跳过", "无", "没有", "不填", "暂无", "略", "不用", "空"}
KEEP_WORDS = {"保持不变", "不变", "不用改", "同上", "还是原来的"}
SCHEMA_TTL_SECONDS = 30
PAYLOAD_IS_NO_ANSWER = "正在填写申请,请直接回答下面的问题;不想继续了请说「取消」。"
FORM_SLOTS = ("matter_code", "form_data", "prefill", "resubmit_id", "field_answer", "pending_confirmation", SWITCH_SLOT)

_schemas: dict[tuple[str, str], tuple[float, dict[str, Any]]] = {}


async def matter_schema(api: BackendClient, who: str, code: str) -> dict[str, Any]:
    """The matter's form and nodes; cached briefly because every turn of a form needs it."""
    key = (who, code)
    cached = _schemas.get(key)
    if cached and time.monotonic() - cached[0] < SCHEMA_TTL_SECONDS:
        return cached[1]
    schema = await api.matter(who, code)
    _schemas[key] = (time.monotonic(), schema)
    return schema


def steps(schema: dict[str, Any]) -> list[dict[str, Any]]:
    """Questions in order: every form field, then every 选择审核人 node."""
    fields = [{"kind": "field", "key": f["key"], "field": f} for f in schema["form"]]
    choices = [{"kind": "approver", "key": n["key"], "node": n} for n in schema["nodes"] if n["choose_approver"]]
    return fields + choices


def answered(step: dict[str, Any], data: dict[str, Any]) -> bool:
    if step["kind"] == "approver":
        return step["key"] in (data.get(APPROVERS) or {})
    return step["key"] in data


def next_step(schema: dict[str, Any], data: dict[str, Any]) -> Optional[dict[str, Any]]:
    return next((s for s in steps(schema) if not answered(s, data)), None)


class Answer:
    """Turns what the user typed into the value a field expects (or says why not); dates are
    read in the college's time zone."""

    def __init__(self, api: BackendClient, who: str, schema: dict[str, Any], data: dict[str, Any],
                 prefill: Optional[dict[str, Any]], zone: tzinfo):
        self.api, self.who, self.schema, self.data, self.prefill = api, who, schema, data, prefill or {}
        self.zone = zone

    async def convert(self, step: dict[str, Any], raw: str) -> tuple[dict[str, Any], Optional[str]]:
        """New form_data and an error message (None when the answer was taken)."""
        typed = (raw or "").strip()
        data = dict(self.data)
        if step["kind"] == "approver":
            return await self._approver(step, typed, data)
        field = step["field"]
        if typed in KEEP_WORDS and step["key"] in self.prefill:
            data[step["key"]] = self.prefill[step["key"]]
            return data, None
        if typed in SKIP_WORDS:
            if field.get("required"):
                return data, f"「{field['label']}」是必填项,不能跳过"
            data[step["key"]] = None
            return data, None
        value, error = await self._value(field, typed)
        if error:
            return data, error
        filled = {k: v for k, v in data.items() if k != APPROVERS and v is not None}
        try:
            cleaned = await self.api.validate(self.who, self.schema["code"], {**filled, step["key"]: value})
        except BackendError as problem:
            fields = problem.details.get("fields") or {}
            return data, fields.get(step["key"]) or next(iter(fields.values()), problem.message)
        data[step["key"]] = cleaned.get(step["key"], value)
        return data, None

    async def _value(self, field: dict[str, Any], typed: str) -> tuple[Any, Optional[str]]:
        kind = field["type"]
        if kind == "choice":
            return self._choice(field, typed)
        if kind == "multichoice":
            picked, bad = [], []
            for part in re.split(r"[、,,;;/和及\s]+", typed):
                if part:
                    value, error = self._choice(field, part)
                    (bad if error else picked).append(part if error else value)
            if bad or not picked:
                return None, "请从选项中选择(可多选,用顿号分隔):" + "、".join(field["options"])
            return picked, None
        if kind == "number":
            value = parse.number(typed)
            return (value, None) if value is not None else (None, f"「{field['label']}」请填写数字")
        if kind in ("date", "datetime"):
            value = normalize_for_field(kind, typed, datetime.now(self.zone))
            if value is None:
                example = "明天、11月30日" if kind == "date" else "明天下午三点、12月1日 9:00"
                return None, f"没看懂「{field['label']}」的时间,请换个说法,如:{example}"
            return value, None
        if kind == "person":
            return await self._person(field, typed)
        return typed, None

    @staticmethod
    def _choice(field: dict[str, Any], typed: str) -> tuple[Any, Optional[str]]:
        options = field["options"]
        if typed in options:
            return typed, None
        contained = [o for o in options if o in typed or typed in o]
        if len(contained) == 1:
            return contained[0], None
        index = parse.number(typed)
        if isinstance(index, int) and 1 <= index <= len(options) and len(typed) <= 3:
            return options[index - 1], None
        return None, "请从以下选项中选择:" + "、".join(options)

    async def _person(self, field: dict[str, Any], typed: str) -> tuple[Any, Optional[str]]:
        name = re.sub(r"(老师|同学|主任|处长)$", "", typed)
        people = await self.api.search_users(self.who, name)
        exact = [p for p in people if p["username"] == typed or p["name"] == name]
        chosen = exact if exact else people
        if len(chosen) == 1:
            return chosen[0]["username"], None
        if not chosen:
            return None, f"没有找到「{typed}」,请输入完整姓名"
        options = ";".join(f"{p['name']}({p['department']},账号 {p['username']})" for p in chosen[:6])
        return None, f"找到多位「{name}」,请回复账号:{options}"

    async def _approver(self, step: dict[str, Any], typed: str, data: dict[str, Any]):
        candidates = step["node"].get("candidates") or []
        earlier = (self.prefill.get(APPROVERS) or {}).get(step["key"])
        if typed in KEEP_WORDS and earlier:
            typed = earlier  # resubmit: keep the approver chosen the first time
        chosen = [c for c in candidates if typed in (c["username"], c["name"]) or c["name"] in typed]
        if len(chosen) != 1:
            names = "、".join(c["name"] for c in candidates)
            return data, f"请从候选审核人中选择一位:{names}"
        data[APPROVERS] = {**(data.get(APPROVERS) or {}), step["key"]: chosen[0]["username"]}
        return data, None


async def said_form_data(api: BackendClient, who: str, schema: dict[str, Any], text: str,
                         zone: tzinfo) -> tuple[dict[str, Any], list[str]]:
    """The answers a request already gives (「下周想请两天假」: 请假天数, 开始时间), each checked
    as if typed — one the form would refuse (a start in the past) is left to be asked — and
    how they read back."""
    if parse.is_button_payload(text):
        return {}, []
    data: dict[str, Any] = {}
    read_back = []
    by_key = {s["key"]: s for s in steps(schema) if s["kind"] == "field"}
    for answer in said_answers(schema["form"], mentioned(text, datetime.now(zone))):
        converted, error = await Answer(api, who, schema, data, None, zone).convert(by_key[answer.key], answer.typed)
        if error is None:
            data = converted
            read_back.append(f"{answer.label} {answer.shown}")
    return data, read_back


def read_back_line(read_back: list[str]) -> str:
    return f"我已按您说的填好:{','.join(read_back)}。不对的话可以随时说「把……改成……」。"


def taken_up_line(kept: dict[str, Any]) -> str:
    count = len([k for k in kept if k != APPROVERS]) + len(kept.get(APPROVERS) or {})
    return f"之前填写的 {count} 项已保留,接着填写。"


async def opening(api: BackendClient, who: str, code: str, request: str, left: Any,
                  zone: tzinfo) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any], str]:
    """A matter's form about to begin (asked for, or switched to): its schema, the answers kept
    from when it was left earlier in the conversation, the form data to start with (those and what
    the request says) and the lines after the greeting (the steps, what was kept, what was read)."""
    schema = await matter_schema(api, who, code)
    kept = taken_up(left, code)
    said, read_back = await said_form_data(api, who, schema, request, zone)
    lines = [f"共 {len(steps(schema))} 步,随时可以说「算了」取消。"]
    if kept:
        lines.append(taken_up_line(kept))
    if read_back:
        lines.append(read_back_line(read_back))
    return schema, kept, {**kept, **said}, "\n".join(lines)


def leaving(tracker: Tracker, schema: dict[str, Any]) -> tuple[Optional[dict[str, Any]], bool]:
    """What is kept of the form being left (None: nothing) and whether it has answers."""
    data = tracker.get_slot("form_data") or {}
    return left_behind(schema["code"], schema["name"], data, tracker.get_slot("resubmit_id")), bool(data)


class ValidateMatterForm(UsesServices, FormValidationAction):
    def name(self) -> str:
        return "validate_matter_form"

    async def required_slots(self, domain_slots: list[str], dispatcher: CollectingDispatcher, tracker: Tracker,
                             domain: dict[str, Any]) -> list[str]:
        who, code = identity_of(tracker), tracker.get_slot("matter_code")
        if not who or not code:
            return []
        schema = await matter_schema(self.api, who, code)
        return ["field_answer"] if next_step(schema, tracker.get_slot("form_data") or {}) else []

    async def validate_field_answer(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                                    domain: dict[str, Any]) -> dict[str, Any]:
        who, code = identity_of(tracker), tracker.get_slot("matter_code")
        data = tracker.get_slot("form_data") or {}
        schema = await matter_schema(self.api, who, code)
        step = next_step(schema, data)
        if step is None:
            return {"field_answer": None}
        offered = tracker.get_slot(SWITCH_SLOT)
        if offered:
            reply = reply_to_offer(str(value))
            if reply == "take":
                return await self.switch(dispatcher, tracker, who, schema, offered)
            if reply == "decline":
                kept = ",已填的信息都还在" if data else ""
                dispatcher.utter_message(text=f"好的,继续填写《{schema['name']}》{kept}。")
                return {SWITCH_SLOT: None, "field_answer": None}
        elif reply_to_offer(str(value)) == "decline":  # 「继续填写」 with nothing offered: no answer, asked again
            return {"field_answer": None}
        files = uploaded_files(tracker)
        if files:  # a picture or file sent in WeCom (actions/attachments.py)
            taken = await take_files(self.api, who, schema, data, step, files, dispatcher, APPROVERS)
            return {"form_data": taken if taken is not None else data, "field_answer": None, SWITCH_SLOT: None}
        if parse.is_button_payload(str(value)):  # a button of an earlier message, clicked mid-form
            dispatcher.utter_message(text=PAYLOAD_IS_NO_ANSWER)
            return {"field_answer": None, SWITCH_SLOT: None}
        kind = step["field"]["type"] if step["kind"] == "field" else "approver"
        target = await switch_request(self.api, who, tracker, kind, str(value), code, refused=False)
        error = None
        if target is None:
            answer = Answer(self.api, who, schema, data, tracker.get_slot("prefill"), self.settings.college_tz)
            data, error = await answer.convert(step, str(value))
            if error:
                target = await switch_request(self.api, who, tracker, kind, str(value), code, refused=True)
        if target:  # not an answer but a request for another matter: offered, never taken silently
            text, buttons = offer(schema["name"], target, *leaving(tracker, schema))
            dispatcher.utter_message(text=text, buttons=buttons)
            return {SWITCH_SLOT: target, "field_answer": None}
        if error:
            dispatcher.utter_message(text=f"{error},请重新输入。")
        return {"form_data": data, "field_answer": None, SWITCH_SLOT: None}

    async def switch(self, dispatcher: CollectingDispatcher, tracker: Tracker, who: str, schema: dict[str, Any],
                     target: dict[str, Any]) -> dict[str, Any]:
        """The form goes on with the other matter: its answers kept from earlier in the
        conversation, if it was left for another one, and what the request says filled in.
        The answers of the form left now are kept in turn (see ``leaving``)."""
        new, kept, form_data, rest = await opening(self.api, who, target["code"], target.get("text") or "",
                                                   tracker.get_slot(LEFT_SLOT), self.settings.college_tz)
        left, answered = leaving(tracker, schema)
        dispatcher.utter_message(text=f"好的,改为办理《{new['name']}》({new['center']['name']})。"
                                      f"{fate(schema['name'], left, answered, will=False)}{rest}")
        still_left = left or (None if kept else tracker.get_slot(LEFT_SLOT))
        return {"matter_code": new["code"], "form_data": form_data, "prefill": None, "resubmit_id": None,
                SWITCH_SLOT: None, LEFT_SLOT: still_left, "field_answer": None}


class ActionAskFieldAnswer(BaseAction):
    """Asks the next question: label, hint, options as buttons, the current value on resubmit."""

    action_name = "action_ask_field_answer"

    async def act(self, dispatcher, tracker, domain, who):
        if tracker.get_slot(SWITCH_SLOT):
            return []  # the offer to switch (validate_field_answer) is the question now
        schema = await matter_schema(self.api, who, tracker.get_slot("matter_code"))
        data = tracker.get_slot("form_data") or {}
        step = next_step(schema, data)
        if step is None:
            return []
        done, total = sum(answered(s, data) for s in steps(schema)), len(steps(schema))
        progress = f"({done + 1}/{total})"
        if step["kind"] == "approver":
            node = step["node"]
            buttons = [{"title": f"{c['name']}({c['department']})", "payload": c["name"]} for c in node["candidates"]]
            text = f"{progress}请选择「{node['name']}」的审核人:"
            earlier = ((tracker.get_slot("prefill") or {}).get(APPROVERS) or {}).get(step["key"])
            named = [c["name"] for c in node["candidates"] if c["username"] == earlier]
            if named:
                text += f"\n原选择:{named[0]}"
                buttons.append({"title": "保持不变", "payload": "保持不变"})
            dispatcher.utter_message(text=text, buttons=buttons)
            return []
        field = step["field"]
        need = "必填" if field.get("required") else "选填,可回复「跳过」"
        lines = [f"{progress}请填写「{field['label']}」({need})"]
        if field.get("hint"):
            lines.append(field["hint"])
        examples = {"date": "可以说:明天、下周一、11月30日", "datetime": "可以说:明天下午三点、12月1日 9:00",
                    "person": "请输入姓名", "attachment": attachment_hint(schema["code"]),
                    "multichoice": "可多选,用顿号分隔"}
        if field["type"] in examples:
            lines.append(examples[field["type"]])
        prefill = tracker.get_slot("prefill") or {}
        buttons = [{"title": o, "payload": o} for o in field.get("options") or []]
        if field["key"] in prefill:
            lines.append(f"原填写:{answer_text(field, prefill[field['key']], shown)}")
            buttons.append({"title": "保持不变", "payload": "保持不变"})
        asks_file = question_data(schema["code"], field) if field["type"] == "attachment" else None
        dispatcher.utter_message(text="\n".join(lines), buttons=buttons or None, json_message=asks_file)
        return []


def summary(schema: dict[str, Any], data: dict[str, Any]) -> str:
    lines = [f"请确认《{schema['name']}》:"]
    for field in schema["form"]:
        if data.get(field["key"]) is not None:
            lines.append(f"· {field['label']}:{answer_text(field, data[field['key']], shown)}")
    chosen = data.get(APPROVERS) or {}
    for node in schema["nodes"]:
        if node["key"] in chosen:
            name = next((c["name"] for c in node["candidates"] if c["username"] == chosen[node["key"]]), chosen[node["key"]])
            lines.append(f"· {node['name']}:{name}")
    lines.append("确认提交吗?")
    return "\n".join(lines)


class ActionConfirmMatter(BaseAction):
    action_name = "action_confirm_matter"

    async def act(self, dispatcher, tracker, domain, who):
        schema = await matter_schema(self.api, who, tracker.get_slot("matter_code"))
        dispatcher.utter_message(text=summary(schema, tracker.get_slot("form_data") or {}), buttons=[
            {"title": "确认提交", "payload": "/affirm"}, {"title": "取消", "payload": "/cancel"}])
        return [SlotSet("pending_confirmation", "submit")]


def still_to_finish(left: Any, submitted: str) -> str:
    """A reminder of a form left for the one just submitted."""
    if isinstance(left, dict) and left.get("name") and left.get("code") != submitted:
        return f"\n您还有《{left['name']}》没有填完,说「我要办{left['name']}」即可接着填。"
    return ""


def reset_form() -> list[dict[str, Any]]:
    return [SlotSet(slot, None) for slot in FORM_SLOTS]


def confirmation_key(tracker: Tracker, command: list[Any]) -> str:
    """One Idempotency-Key per confirmation asked: every 「确认」 of the same summary (a retry
    after a timeout, a repeated click) sends the same key, so the backend creates the
    application once. A new summary (after a correction) or other answers give a new key."""
    asked = next((event.get("timestamp") for event in reversed(tracker.events)
                  if event.get("event") == "slot" and event.get("name") == "pending_confirmation"
                  and event.get("value") == "submit"), None)
    canonical = json.dumps([tracker.sender_id, asked, command], sort_keys=True, ensure_ascii=False)
    return "chat-" + hashlib.sha256(canonical.encode()).hexdigest()


NOT_SURE_SUBMITTED = ("校务系统没有及时回应,暂时无法确认是否已提交。请稍后再说「确认」重试"
                      "(同一次确认不会重复提交),或说「我的申请」查看。")


class ActionSubmitApplication(BaseAction):
    action_name = "action_submit_application"

    async def act(self, dispatcher, tracker, domain, who):
        code = tracker.get_slot("matter_code")
        data = dict(tracker.get_slot("form_data") or {})
        approvers = data.pop(APPROVERS, None) or {}
        form = {k: v for k, v in data.items() if v is not None}
        resubmit_id = tracker.get_slot("resubmit_id")
        key = confirmation_key(tracker, [code, resubmit_id, form, approvers])
        try:
            if resubmit_id:
                application = await self.api.resubmit(who, int(resubmit_id), form, approvers or None, key=key)
                verb = "已重新提交"
            else:
                application = await self.api.submit(who, code, form, approvers, key=key)
                verb = "已提交"
        except BackendUnavailable:
            # The backend may have committed before the answer was lost: keep the confirmation
            # open, so 「确认」 again sends the same key and gets that application, not a second one.
            dispatcher.utter_message(text=NOT_SURE_SUBMITTED)
            return []
        node = application.get("current_node") or {}
        holders = "、".join(p["name"] for p in application.get("current_assignees") or [])
        where = f",当前在「{node.get('name')}」" + (f",由{holders}办理" if holders else "") if node else ""
        dispatcher.utter_message(text=f"{verb}《{application['matter']['name']}》,申请编号 {application['number']}{where}。"
                                      "可随时说「我的申请」查看进度。" + still_to_finish(tracker.get_slot(LEFT_SLOT), code))
        return reset_form()

    def on_failure(self, tracker):
        # A refused submission keeps the answers so the user can correct them.
        return [SlotSet("pending_confirmation", None)]


class ActionCancelForm(BaseAction):
    action_name = "action_cancel_form"

    async def run(self, dispatcher, tracker, domain):  # needs neither identity nor backend
        return await self.act(dispatcher, tracker, domain, "")

    async def act(self, dispatcher, tracker, domain, who):
        dispatcher.utter_message(response="utter_cancelled")
        return [ActiveLoop(None), *reset_form(), SlotSet("confirm_terminate", None)]


class ActionCorrectField(BaseAction):
    """「把时间改成后天」: changes an answer already given, then the form goes on."""

    action_name = "action_correct_field"

    async def act(self, dispatcher, tracker, domain, who):
        code = tracker.get_slot("matter_code")
        if not code:
            raise UserFacingError("现在没有正在填写的申请。想办什么事项?比如「我要请假」。")
        parsed = parse.correction(tracker.latest_message.get("text", ""))
        if not parsed:
            raise UserFacingError("请告诉我要改哪一项、改成什么,例如「把开始时间改成后天上午九点」。")
        what, value = parsed
        schema = await matter_schema(self.api, who, code)
        data = tracker.get_slot("form_data") or {}
        matches = [s for s in steps(schema) if s["kind"] == "field"
                   and (what in s["field"]["label"] or s["field"]["label"] in what)]
        filled = [s for s in matches if s["key"] in data] or matches
        if not filled:
            target = await self.another_matter(tracker, who, code)
            if target:  # 「不请了,改成申请用车」: not a field to correct but another matter
                text, buttons = offer(schema["name"], target, *leaving(tracker, schema))
                dispatcher.utter_message(text=text, buttons=buttons)
                return [SlotSet(SWITCH_SLOT, target)]
            labels = "、".join(f["label"] for f in schema["form"])
            raise UserFacingError(f"没有找到「{what}」这一项。可修改的有:{labels}")
        step = filled[0]
        answer = Answer(self.api, who, schema, {k: v for k, v in data.items() if k != step["key"]},
                        tracker.get_slot("prefill"), self.settings.college_tz)
        updated, error = await answer.convert(step, value)
        if error:
            raise UserFacingError(f"{error}。「{step['field']['label']}」没有修改。")
        dispatcher.utter_message(text=f"好的,已将「{step['field']['label']}」改为 {shown(updated[step['key']])}。")
        return [SlotSet("form_data", {**data, **updated})]

    async def another_matter(self, tracker: Tracker, who: str, code: str) -> Optional[dict[str, Any]]:
        """Another matter the message asks for, while the form is being filled (the switch is
        offered inside the form only: at the confirmation there is no question to go back to)."""
        if (tracker.active_loop or {}).get("name") != "matter_form":
            return None
        return await requested_matter(self.api, who, tracker.latest_message.get("text", "") or "", code)
