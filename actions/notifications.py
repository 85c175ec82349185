"""Notifications from the backend (intent EXTERNAL_notification, sent by its outbox worker).

A new task arrives as a card — matter, applicant, time, key fields, buttons naming the
task — and becomes "the task just looked at", so a typed 「同意,情况属实」 right after
acts on it. Applicants hear about approvals, returns, progress and added signers; approvers get a
morning digest of what waits for them (count, the oldest few, 「查看待办」).
Exactly once: the outbox id is remembered in a slot only by a turn that showed the
notification, and the notifier marks its row sent only when the tracker Rasa answers
with holds that id. A WeCom push is sent inside the turn, so a failed send leaves the
tracker unsaved and the id unremembered; a backend that is down ends the action without
a message or the id, so the notifier tries again. A row delivered again after the
notifier crashed (see backend/notify/worker.py) finds its id remembered and is ignored.
"""
from __future__ import annotations

import json
from typing import Any, Optional

from rasa_sdk.events import SlotSet

from .backend_client import BackendError
from .base import BaseAction
from .helpdesk import HELPDESK_EVENTS, helpdesk_notice
from .render import payload, short_time, shown

SEEN_SLOT = "notified_outbox_ids"
DELIVERY_KEY = "delivery_key"  # read by bot/channels/wecom/render.py
TASK_PAGE = "task_page"  # the hall's page of a card's task: a channel may open it (WeCom: tapping the card)
SEEN_KEEP = 50
KEY_FIELDS = 4
MAX_VALUE_CHARS = 40
TASK_EVENTS = ("task_assigned", "signer_requested", "task_overdue", "signer_opinions_ready",
               "task_reminded", "delegate_requested", "delegate_done", "after_signer_requested")
OPINION_ONLY = ("signer", "delegate")  # tasks that only give an opinion back to their approver


def task_buttons(task: dict[str, Any]) -> list[dict[str, str]]:
    if task["kind"] in OPINION_ONLY:
        moves = [("同意", "approve"), ("不同意", "disagree"), ("详情", "task_detail")]
    else:
        # 转办 / 委派 ask whom next; the card's task stays the one in view for the answer
        moves = [("同意", "approve"), ("退回", "return_task"), ("加签", "add_signers"), ("转办", "transfer_task"),
                 ("委派", "delegate_task"), ("详情", "task_detail")]
    return [{"title": title, "payload": payload(intent, task_id=task["id"])} for title, intent in moves]


def key_fields(application: dict[str, Any]) -> list[str]:
    """The first few answered fields of the form, in the form's order, kept short."""
    lines = []
    for field in application.get("form_schema") or []:
        value = (application.get("form") or {}).get(field["key"])
        if value in (None, "", []):
            continue
        line = shown(value)
        if len(line) > MAX_VALUE_CHARS:
            line = line[:MAX_VALUE_CHARS - 1] + "…"
        lines.append(f"· {field['label']}:{line}")
        if len(lines) == KEY_FIELDS:
            break
    return lines


def task_card(event: str, task: dict[str, Any], facts: dict[str, str]) -> str:
    applicant = task["applicant"]
    by = facts.get("actor_name", "审批人")
    heading = {
        # 转办 names who handed it over; a plain assignment has no actor
        "task_assigned": f"🔀 {by}将一个待办转办给您" if facts.get("actor_name") else "📋 您有一个新的待办",
        "task_reminded": f"⏰ 催办:{facts.get('actor_name', '申请人')}提醒您尽快处理这个待办",
        "delegate_requested": f"🤝 {by}委派您先处理以下申请,您给出意见后会回到{by}那里",
        "delegate_done": "💬 受委派人已给出意见,请继续审批",
        "after_signer_requested": f"✍️ {by}已同意并加签给您,请您接着审批",
        "signer_requested": f"✍️ {facts.get('actor_name', '审批人')}请您对以下申请给出加签意见",
        "task_overdue": f"⏰ 催办:这个待办已等待 {facts.get('waited_hours', '')} 小时,请尽快处理",
        "signer_opinions_ready": "💬 加签意见已全部收到,请继续审批",
    }[event]
    lines = [heading, f"【{task['matter']['name']}】{task['number']}",
             f"申请人:{applicant['name']}({applicant.get('department', '')})",
             f"提交时间:{short_time(task['application'].get('created_at'))}",
             f"当前环节:{task['node']['name']}"]
    lines += key_fields(task["application"])
    note = {"signer_requested": "加签说明", "delegate_requested": "委派说明", "task_assigned": "转办说明",
            "after_signer_requested": "加签说明"}.get(event)
    if note and facts.get("opinion"):
        lines.append(f"{note}:{shown(facts['opinion'])}")
    lines.append("可直接回复「同意,意见…」" + ("或「不同意,原因…」" if task["kind"] in OPINION_ONLY else "或「退回 原因…」"))
    return "\n".join(lines)


DIGEST_EVENT = "approver_digest"  # backend/notify/digest.py


def waited(hours: int) -> str:
    return f"{hours // 24} 天" if hours >= 24 else f"{hours} 小时"


def digest_message(facts: dict[str, str]) -> Optional[tuple[str, list[dict[str, str]]]]:
    """The morning digest's text and buttons; None when it names nothing pending."""
    try:
        count = int(facts.get("pending_count", "0"))
        oldest = json.loads(facts.get("digest_oldest", "[]"))
    except ValueError:
        return None
    if count <= 0 or not isinstance(oldest, list):
        return None
    first = f",最早的已等待 {waited(int(oldest[0]['waited_hours']))}" if oldest else ""
    lines = [f"☀️ 早上好,您有 {count} 项待办{first}:"]
    lines += [f"{i}. 【{item['matter']}】{item['applicant']} · {item['number']} · 已等待 {waited(int(item['waited_hours']))}"
              for i, item in enumerate(oldest, start=1)]
    if count > len(oldest):
        lines.append(f"另有 {count - len(oldest)} 项,点「查看待办」看全部。")
    buttons = [{"title": "查看待办", "payload": payload("list_tasks")}]
    if oldest:
        buttons.append({"title": "处理最早的", "payload": payload("task_detail", task_id=oldest[0]["task_id"])})
    return "\n".join(lines), buttons


def applicant_message(event: str, facts: dict[str, str], application: Optional[dict[str, Any]]) -> Optional[str]:
    """What an applicant (or, for 终止, an approver whose task was cancelled) is told."""
    matter = f"《{application['matter']['name']}》" if application else ""
    what = f"{matter}{facts.get('number', '')}"
    node = facts.get("node_name", "")
    if event == "application_approved":
        return f"✅ 您的{what}已全部审批通过。"
    if event == "application_returned":
        by = facts.get("actor_name", "审批人")
        return (f"↩️ 您的{what}在「{node}」环节被{by}退回,意见:{shown(facts.get('opinion', '无'))}。"
                "修改后说「重新提交」即可再次提交。")
    if event == "application_progressed":
        current = (application or {}).get("current_node") or {}
        now_at = f",现在到了「{current['name']}」环节" if current.get("name") else ""
        return f"⏩ 您的{what}已通过「{node}」{now_at}。"
    if event == "application_signers_added":
        return f"👥 您的{what}在「{node}」环节加签给 {facts.get('signers', '')},等待他们给出意见。"
    if event == "application_sent_back":
        return (f"↩️ 您的{what}在「{node}」环节被{facts.get('actor_name', '审批人')}退回到"
                f"「{facts.get('to_node_name', '')}」重新审批,意见:{shown(facts.get('opinion', '无'))}。")
    if event == "application_withdrawn":
        return f"↩️ {what}已被申请人撤回,您在「{node}」环节的相关待办已取消。"
    if event == "application_cc":
        return f"📨 {facts.get('actor_name', '')}将{what}抄送给您,仅供查阅:可在「我的申请 › 抄送我的」查看。"
    if event == "signer_removed":
        return f"➖ {facts.get('actor_name', '审批人')}已撤回对{what}的加签,您无需再处理。"
    if event == "application_commented":
        return f"📝 {facts.get('actor_name', '')}在{what}上添加了备注:{shown(facts.get('opinion', ''))}"
    if event == "application_terminated":
        reason = f",理由:{shown(facts['opinion'])}" if facts.get("opinion") else ""
        return f"✖️ {what}已被申请人终止{reason},您的相关待办已取消。"
    return None


class ActionDeliverNotification(BaseAction):
    """A push: when it cannot be shown it says nothing and returns no events, so its outbox
    id is not remembered and the notifier (which checks for it) tries again later."""

    action_name = "action_deliver_notification"
    tell_failures = False

    async def act(self, dispatcher, tracker, domain, who):
        facts = {e["entity"]: str(e["value"]) for e in tracker.latest_message.get("entities") or []
                 if e.get("value") not in (None, "")}
        seen = [str(i) for i in tracker.get_slot(SEEN_SLOT) or []]
        outbox_id = facts.get("outbox_id")
        if outbox_id and outbox_id in seen:
            return []  # a repeated delivery: already shown
        remember = [SlotSet(SEEN_SLOT, (seen + [outbox_id])[-SEEN_KEEP:])] if outbox_id else []
        event = facts.get("notification_event", "")
        # The same words for every try of this row: a channel can ask its platform to drop a repeat.
        key = {DELIVERY_KEY: f"outbox-{outbox_id}"} if outbox_id else None
        if event in HELPDESK_EVENTS:  # the help desk wrote, handed the conversation back, or answered a ticket
            text, changes = helpdesk_notice(event, facts)
            if text:
                dispatcher.utter_message(text=text, json_message=key)
            return remember + changes
        if event == DIGEST_EVENT:
            digest = digest_message(facts)
            if digest:  # tapping the card (WeCom) opens the hall's 待办 list
                dispatcher.utter_message(text=digest[0], buttons=digest[1], json_message={**(key or {}), TASK_PAGE: "/tasks"})
            return remember
        if event in TASK_EVENTS and facts.get("task_id"):
            task = await self.api.task(who, int(facts["task_id"]))
            if task["status"] != "pending":
                return remember  # decided or cancelled since: nothing to ask for
            data = {**(key or {}), TASK_PAGE: f"/tasks/{task['id']}"}
            dispatcher.utter_message(text=task_card(event, task, facts), buttons=task_buttons(task), json_message=data)
            return remember + [SlotSet("current_task_id", task["id"])]
        text = applicant_message(event, facts, await self._application(who, facts.get("application_id")))
        if text:
            dispatcher.utter_message(text=text, json_message=key)
        return remember

    async def _application(self, who: str, application_id: Optional[str]) -> Optional[dict[str, Any]]:
        """The application for its matter name and current node; the message works without it."""
        if not application_id:
            return None
        try:
            return await self.api.application(who, int(application_id))
        except BackendError:  # e.g. no longer visible to this user: the message names the number only
            return None
