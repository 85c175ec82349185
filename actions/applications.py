"""My applications: list, progress, terminate (with confirmation), resubmit after a return."""
from __future__ import annotations

from datetime import datetime
from typing import Any, Optional

from rasa_sdk.events import SlotSet

from . import text as parse
from .backend_client import BackendError
from .base import BaseAction, UserFacingError
from .batch_decisions import ordinals
from .done_tasks import asks_for_done, show_done
from .matter_form import APPROVERS
from .render import application_line, application_progress

LISTED = "application_ids"  # slot: the applications of the last 「我的申请」 list, in order
PROGRESS_DIAGRAM = "progress_diagram"  # key of the custom payload; read by bot/channels/webchat.py


async def find_application(api, who: str, tracker, status: Optional[str] = None) -> dict[str, Any]:
    """By number in the message, else by the matter mentioned, else the latest one."""
    message = tracker.latest_message.get("text", "") or ""
    number = parse.application_number(message)
    entity_id = next(tracker.get_latest_entity_values("application_id"), None)
    mine = await api.applications(who, status=status, limit=50)
    if entity_id:
        mine = [a for a in mine if a["id"] == int(entity_id)]
    elif number:
        mine = [a for a in mine if a["number"] == number]
        if not mine:
            raise UserFacingError(f"没有找到您的申请 {number}。")
    else:
        words = list(tracker.get_latest_entity_values("matter"))
        if words:
            found = await api.search_matters(who, " ".join(words))
            codes = {m["code"] for m in found[:3]}
            mine = [a for a in mine if a["matter"]["code"] in codes] or mine
    if not mine:
        raise UserFacingError("没有找到符合条件的申请。说「我的申请」可以查看全部。")
    return mine[0]


class ActionMyApplications(BaseAction):
    action_name = "action_my_applications"

    async def act(self, dispatcher, tracker, domain, who):
        if asks_for_done(tracker.latest_message.get("text", "")):  # 「我已经处理过哪些」: the approver's 已办
            return await show_done(self.api, dispatcher, tracker, who, datetime.now(self.settings.college_tz))
        mine = await self.api.applications(who, limit=10)
        if not mine:
            dispatcher.utter_message(text="您还没有提交过申请。想办什么事项?比如「我要请假」。")
            return []
        lines = ["您最近的申请:"] + [application_line(i + 1, a) for i, a in enumerate(mine)]
        lines.append("说「SW… 的进度」查看详情,或「终止我的××申请」「把第1个和第3个都终止」。")
        dispatcher.utter_message(text="\n".join(lines))
        return [SlotSet(LISTED, [a["id"] for a in mine])]


def progress_diagram(application_id: int) -> dict[str, Any]:
    """Where the hall draws this application's flow diagram, as data: each channel decides
    how to show it (the web chat links it; WeCom, outside the hall, leaves it out)."""
    return {PROGRESS_DIAGRAM: {"application_id": application_id, "path": f"/applications/{application_id}/progress"}}


class ActionApplicationProgress(BaseAction):
    action_name = "action_application_progress"

    async def act(self, dispatcher, tracker, domain, who):
        application = await find_application(self.api, who, tracker)
        detail = await self.api.application(who, application["id"])
        dispatcher.utter_message(text=application_progress(detail), json_message=progress_diagram(detail["id"]))
        return []


async def listed_applications(api, who: str, tracker) -> Optional[list[dict[str, Any]]]:
    """「把第1个和第3个都终止」: the applications at those places in the last 「我的申请」 list."""
    positions, listed = ordinals(tracker.latest_message.get("text", "") or ""), tracker.get_slot(LISTED) or []
    if not positions or not listed:
        return None
    wrong = [p for p in positions if not 1 <= p <= len(listed)]
    if wrong:
        raise UserFacingError(f"列表里没有第 {'、'.join(map(str, wrong))} 个,共 {len(listed)} 个申请。")
    mine = {a["id"]: a for a in await api.applications(who, limit=50)}
    return [mine[int(listed[p - 1])] for p in dict.fromkeys(positions) if int(listed[p - 1]) in mine]


class ActionTerminateApplication(BaseAction):
    """Asks first; the termination itself happens in action_confirm_terminate."""

    action_name = "action_terminate_application"

    async def act(self, dispatcher, tracker, domain, who):
        chosen = await listed_applications(self.api, who, tracker) or [await find_application(self.api, who, tracker)]
        stoppable = [a for a in chosen if a["status"] in ("running", "returned")]
        notes = [f"{a['number']} 当前为「{a['status_label']}」,不能终止。" for a in chosen if a not in stoppable]
        if not stoppable:
            raise UserFacingError("\n".join(notes))
        if len(stoppable) == 1:
            a = stoppable[0]
            question = [f"确定要终止《{a['matter']['name']}》{a['number']} 吗?终止后不能恢复。"]
        else:
            question = [f"确定要终止以下 {len(stoppable)} 个申请吗?终止后不能恢复。"] + [
                application_line(i + 1, a) for i, a in enumerate(stoppable)]
        dispatcher.utter_message(
            text="\n".join(question + notes),
            buttons=[{"title": "确定终止", "payload": "/affirm"}, {"title": "不终止", "payload": "/deny"}])
        return [SlotSet("confirm_terminate", [a["id"] for a in stoppable]), SlotSet("pending_confirmation", "terminate")]


class ActionConfirmTerminate(BaseAction):
    """Each application terminated by its own request: one that fails does not keep the others."""

    action_name = "action_confirm_terminate"

    async def act(self, dispatcher, tracker, domain, who):
        done, failed = [], []
        for application_id in [int(i) for i in tracker.get_slot("confirm_terminate") or []]:
            try:
                done += [a["number"] for a in await self.api.terminate(who, [application_id], "申请人通过校务助手终止")]
            except BackendError as error:
                failed.append(error.message)
        lines = [f"已终止 {'、'.join(done)},相关待办已撤回。"] if done else []
        lines += [f"未能终止:{reason}" for reason in failed]
        dispatcher.utter_message(text="\n".join(lines) or "没有需要终止的申请。")
        return self.on_failure(tracker)

    def on_failure(self, tracker):
        return [SlotSet("confirm_terminate", None), SlotSet("pending_confirmation", None)]


class ActionResubmitApplication(BaseAction):
    """After a return: the form again, each answer prefilled («保持不变» keeps it)."""

    action_name = "action_resubmit_application"

    async def act(self, dispatcher, tracker, domain, who):
        application = await find_application(self.api, who, tracker, status="returned")
        detail = await self.api.application(who, application["id"])
        returned = next((r for r in reversed(detail["records"]) if r["action"] == "return"), None)
        reason = f"退回意见:{returned['opinion']}。" if returned and returned.get("opinion") else ""
        dispatcher.utter_message(text=f"好的,重新填写《{detail['matter']['name']}》{detail['number']}。{reason}"
                                      "每项会显示原填写内容,回复「保持不变」即可沿用。")
        prefill = dict(detail["form"])
        if detail.get("approvers"):
            prefill[APPROVERS] = detail["approvers"]
        return [SlotSet("matter_code", detail["matter"]["code"]), SlotSet("form_data", {}),
                SlotSet("prefill", prefill), SlotSet("resubmit_id", detail["id"])]
