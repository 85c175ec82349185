"""Pending tasks and decisions: list, details, 同意 / 不同意 / 退回 (to the applicant, or 「退回到部门负责人」
to a node the application passed) / 加签.

Which task a decision is about, in order: the task a button names, an application
number in the message (SW20261127-0003), an ordinal (第2个) into the last list shown,
the task the conversation is on — looked at (「看看第1个」) or notified about since the
last decision — or the only pending task. When the conversation is on two tasks (a card
arrived after 「看看第1个」) a bare 「同意」 is not guessed: we ask which, with buttons
that carry the task and the opinion. The opinion is whatever the user wrote after the
command and its target, verbatim.
"""
from __future__ import annotations

import re
from typing import Any, Optional

from rasa_sdk.events import SlotSet

from datetime import datetime

from . import text as parse
from .backend_client import BackendError
from .base import BaseAction, UserFacingError
from .batch_decisions import ask_batch, is_batch
from .done_tasks import asks_for_done, show_done
from .render import application_progress, payload, shown, task_line

MOVE_LABELS = {"approve": "同意", "return": "退回"}
MAX_BUTTON_OPINION = 200
MAX_IN_VIEW = 5  # the newest tasks looked at or notified about that a bare decision may mean
DECISION_OUTCOME = "decision_outcome"  # key of the custom payload; read by bot/channels/wecom/render.py
RETURN_TO = re.compile(r"(?:退回|打回|退)(?:到|给|至)(?P<target>[^,,。;;\s]+)[,,。;;\s]*(?P<opinion>.*)")
TO_APPLICANT = ("申请人", "发起人", "本人")
# 减签 and 后加签 are said to the add-signers handling (and to 同意 / 委派, which they resemble):
REMOVE_SIGNERS = re.compile(r"减签|减去|减掉|去掉|移除|删掉|删除|撤掉|撤下|拿掉|(?:取消|撤销|撤回).{0,8}加签"
                            r"|(?:不用|不要|不需要)(?:再)?(?:让|给|请)?.{0,8}(?:看|审|签)了")
SIGNERS_CLAUSE = re.compile(r"加签|^(?:然后|之后|以后|再)|(?:让|请|给|交给).{1,10}(?:看|审|签)")
AFTER_SIGNERS = re.compile(r"后加签|加签并同意|同意并加签|同意[,,]?(?:了)?(?:以后|之后|后|然后)|先同意(?:再|然后)")


async def return_target(api, who: str, task: dict[str, Any], message: str) -> tuple[Optional[dict], Optional[str]]:
    """「退回到部门负责人,请核实天数」 → (the passed node it names, 「请核实天数」); (None, None) when
    no node is named (back to the applicant as before)."""
    found = RETURN_TO.search(message or "")
    if not found or any(word in found.group("target") for word in TO_APPLICANT):
        return None, None
    target = found.group("target").removesuffix("环节")
    detail = task if "return_nodes" in task else await api.task(who, task["id"])
    node = next((n for n in detail.get("return_nodes") or [] if target in n["name"] or n["name"] in target), None)
    if node is None:
        passed = "、".join(f"「{n['name']}」" for n in detail.get("return_nodes") or [])
        raise UserFacingError(f"「{target}」不是这份申请已经过的环节。" + (f"可以退回到:{passed},或退回申请人。"
                                                                   if passed else "现在只能退回申请人。"))
    return node, found.group("opinion").strip(parse.PUNCTUATION)


async def pending(api, who: str) -> list[dict[str, Any]]:
    return await api.tasks(who, "pending", limit=20)


def tasks_in_view(tracker) -> list[int]:
    """The tasks the conversation is on, newest first: each one looked at or notified about
    (slot current_task_id set) since the last decision (which clears it)."""
    found: list[int] = []
    for event in reversed(tracker.events):
        if event.get("event") in ("session_started", "restart"):
            break
        if event.get("event") == "slot" and event.get("name") == "current_task_id":
            if event.get("value") is None:
                break
            if int(event["value"]) not in found:
                found.append(int(event["value"]))
            if len(found) == MAX_IN_VIEW:
                break
    return found


async def in_view(api, who: str, tracker) -> list[dict[str, Any]]:
    """The tasks in view that still wait for this user, newest first."""
    ids = tasks_in_view(tracker)
    if not ids and tracker.get_slot("current_task_id"):  # a tracker without its events (tests)
        ids = [int(tracker.get_slot("current_task_id"))]
    if len(ids) < 2:
        return [await api.task(who, i) for i in ids]
    waiting = []
    for task_id in ids:
        try:
            task = await api.task(who, task_id)
        except BackendError:
            continue
        if task["status"] == "pending":
            waiting.append(task)
    return waiting


def which_of(tasks: list[dict[str, Any]], tracker) -> UserFacingError:
    """A bare decision that could mean several tasks: the question, a button per task."""
    intent = tracker.latest_message.get("intent", {}).get("name") or "approve"
    said = parse.opinion(tracker.latest_message.get("text", "") or "")
    verb = {"return_task": "退回", "disagree": "不同意", "add_signers": "加签", "task_detail": "查看"}.get(intent, "同意")
    # A WeCom button key holds 1024 bytes: a long opinion is not carried, the user says it again.
    extra = {"opinion": said} if said and len(said) <= MAX_BUTTON_OPINION else {}
    lines = [f"您正在看的待办不止一个,请问要{verb}哪一个?"] + [task_line(i + 1, t) for i, t in enumerate(tasks)]
    if said and not extra:
        lines.append(f"意见较长,请带上编号再说一次,例如「{verb} {tasks[0]['number']} 意见…」。")
    buttons = [{"title": f"{verb} {t['number']}", "payload": payload(intent, task_id=t["id"], **extra)}
               for i, t in enumerate(tasks[:5])]
    return UserFacingError("\n".join(lines), buttons)


async def resolve_task(api, who: str, tracker) -> dict[str, Any]:
    message = tracker.latest_message.get("text", "") or ""
    entity_id = next(tracker.get_latest_entity_values("task_id"), None)
    if entity_id:  # a button names its task
        return await api.task(who, int(entity_id))
    number = parse.application_number(message)
    position = parse.ordinal(message)
    listed = [int(i) for i in tracker.get_slot("task_ids") or []]
    if number is None and not (position is not None and listed):
        viewed = await in_view(api, who, tracker)
        if len(viewed) > 1:
            raise which_of(viewed, tracker)
        if viewed:
            return viewed[0]
    tasks = await pending(api, who)  # needed only from here on
    if number:
        found = [t for t in tasks if t["number"] == number]
        if not found:
            raise UserFacingError(f"您的待办里没有 {number}。说「我的待办」可以查看全部待办。")
        return found[0]
    if position is not None:
        ids = listed or [t["id"] for t in tasks]
        index = len(ids) - 1 if position == -1 else position - 1
        if not 0 <= index < len(ids):
            raise UserFacingError(f"列表里没有第 {position} 个,共 {len(ids)} 个待办。")
        return await api.task(who, ids[index])
    if len(tasks) == 1:
        return tasks[0]
    if not tasks:
        raise UserFacingError("您目前没有待办任务。")
    raise UserFacingError("您有多个待办,请说明是哪一个,例如「同意第1个」或带上申请编号。\n"
                          + "\n".join(task_line(i + 1, t) for i, t in enumerate(tasks[:10])))


class ActionListTasks(BaseAction):
    action_name = "action_list_tasks"

    async def act(self, dispatcher, tracker, domain, who):
        if asks_for_done(tracker.latest_message.get("text", "")):  # 「看看我的已办」「本周我审批了什么」
            return await show_done(self.api, dispatcher, tracker, who, datetime.now(self.settings.college_tz))
        tasks = await pending(self.api, who)
        if not tasks:
            dispatcher.utter_message(text="您目前没有待办任务 👍")
            return [SlotSet("task_ids", [])]
        lines = [f"您有 {len(tasks)} 个待办:"] + [task_line(i + 1, t) for i, t in enumerate(tasks)]
        lines.append("说「看看第1个」查看详情,或直接「同意第1个,意见…」「退回第2个,原因…」。")
        buttons = [{"title": f"看第{i + 1}个", "payload": payload("task_detail", task_id=t["id"])}
                   for i, t in enumerate(tasks[:5])]
        dispatcher.utter_message(text="\n".join(lines), buttons=buttons)
        return [SlotSet("task_ids", [t["id"] for t in tasks])]


class ActionTaskDetail(BaseAction):
    action_name = "action_task_detail"

    async def act(self, dispatcher, tracker, domain, who):
        task = await resolve_task(self.api, who, tracker)
        detail = task if "application" in task else await self.api.task(who, task["id"])
        application = detail["application"]
        lines = [f"【{detail['matter']['name']}】{detail['number']}",
                 f"申请人:{detail['applicant']['name']}({detail['applicant'].get('department', '')})",
                 f"当前环节:{detail['node']['name']}({detail['status_label']})"]
        labels = {f["key"]: f["label"] for f in application["form_schema"]}
        for key, value in application["form"].items():
            lines.append(f"· {labels.get(key, key)}:{shown(value)}")
        lines.append(application_progress(application, records_only=True))
        # Each button names this task: a card arriving meanwhile cannot redirect it.
        moves = []
        if "approve" in detail["actions"]:
            moves = [("同意", "approve"), ("退回", "return_task")]
        elif "sign" in detail["actions"]:
            moves = [("同意", "approve"), ("不同意", "disagree")]
        buttons = [{"title": title, "payload": payload(intent, task_id=detail["id"])} for title, intent in moves]
        dispatcher.utter_message(text="\n".join(lines), buttons=buttons or None)
        return [SlotSet("current_task_id", detail["id"])]


class ActionDecideTask(BaseAction):
    """同意 / 不同意 / 退回 on one task; an added signer's 同意/不同意 becomes their opinion."""

    action_name = "action_decide_task"

    async def act(self, dispatcher, tracker, domain, who):
        intent = tracker.latest_message.get("intent", {}).get("name")
        message = tracker.latest_message.get("text", "") or ""
        if intent != "return_task" and signer_move(message):  # 「我同意后再让李明看」 is a 后加签
            return await change_signers(self.api, dispatcher, tracker, who)
        if intent in ("approve", "return_task") and is_batch(message):  # 「全部同意」「把请假的都同意了」
            return await ask_batch(self.api, dispatcher, tracker, who, "approve" if intent == "approve" else "return")
        task = await resolve_task(self.api, who, tracker)
        # A 「which one?」 button carries the opinion typed with the bare decision.
        opinion = next(tracker.get_latest_entity_values("opinion"), None) or parse.opinion(message)
        if task["kind"] in ("signer", "delegate"):  # an added signer's or a delegate's opinion
            move, body = "sign", {"opinion": opinion or ("同意" if intent != "disagree" else "不同意"),
                                  "agree": intent != "disagree"}
        elif intent == "return_task":
            node, said = await return_target(self.api, who, task, message)
            if node is not None:
                if not said:
                    raise UserFacingError(f"退回到「{node['name']}」需要填写原因,例如「退回到{node['name']},请核实」。")
                opinion = said
            if not opinion:
                raise UserFacingError(f"退回需要填写原因,例如「退回 {task['number']} 材料不全」。")
            move, body = "return", {"opinion": opinion, **({"to_node": node["key"]} if node else {})}
        elif intent == "disagree":
            raise UserFacingError("如不同意该申请,请使用「退回」并写明原因,例如「退回,材料不全」。")
        else:
            move, body = "approve", {"opinion": opinion}
        try:
            result = await self.api.decide(who, task["id"], move, body)
        except BackendError as error:
            if error.status == 409:
                raise UserFacingError(f"{task['number']} {error.message}。说「我的待办」查看最新待办。") from None
            raise
        stance = ("同意" if body["agree"] else "不同意") if move == "sign" else MOVE_LABELS[move]
        # The outcome as data, for channels that show it elsewhere too (WeCom: on the clicked card).
        dispatcher.utter_message(text=decision_message(result, move, body),
                                 json_message={DECISION_OUTCOME: f"已{stance}"})
        return [SlotSet("current_task_id", None), SlotSet("task_ids", None)]


def decision_message(result: dict[str, Any], move: str, body: dict[str, Any]) -> str:
    said = f",意见:{body['opinion']}" if body.get("opinion") else ""
    if move == "sign":
        stance = "同意" if body["agree"] else "不同意"
        return (f"已提交您对《{result['matter']['name']}》{result['number']}的加签意见({stance}){said}。"
                "审批人会在所有加签意见到齐后继续办理。")
    if body.get("to_node"):
        node = result.get("application_current_node") or {}
        return f"已将《{result['matter']['name']}》{result['number']}退回到「{node.get('name', '')}」重新审批{said}。"
    head = f"已{MOVE_LABELS[move]}《{result['matter']['name']}》{result['number']}{said}。"
    state = {"approved": "该申请已全部审批通过。", "returned": "申请已退回给申请人。"}.get(result["application_status"])
    if state:
        return head + state
    node = result.get("application_current_node")
    return head + (f"已流转到「{node['name']}」。" if node else "")


async def department_code(api, who: str, name: Optional[str]) -> Optional[str]:
    """The code of the department named (「教务处」), if there is one."""
    if not name:
        return None
    tree = await api.departments(who)
    stack = list(tree["children"])
    while stack:
        node = stack.pop()
        if name in node["name"] or node["name"].startswith(name):
            return node["code"]
        stack.extend(node["children"])
    return None


async def people_named(api, who: str, tracker, intent: str, *, ask: str, **button: Any) -> list[dict[str, Any]]:
    """The people a message names (「教务处的王老师和李老师」): by username from a button, or by
    name (and department) in the org chart. Several matches of a name: buttons to choose
    (``intent`` with the username and ``button``'s entities); none named: ``ask``."""
    department = await department_code(api, who, next(tracker.get_latest_entity_values("department"), None))
    chosen = [u for u in tracker.get_latest_entity_values("username")]
    mentions = list(dict.fromkeys(tracker.get_latest_entity_values("person")))
    if not chosen:
        # NLU may catch only some of 「王老师和李老师」: add title mentions it missed.
        for surname in parse.person_mentions(tracker.latest_message.get("text", ""), []):
            if not any(m.startswith(surname) for m in mentions):
                mentions.append(surname)
    if not mentions and not chosen:
        raise UserFacingError(ask)
    resolved: list[dict[str, Any]] = [{"username": u} for u in chosen]
    for mention in mentions:
        name = mention.rstrip("老师主任处长同学")
        people = await api.search_users(who, name, department)
        exact = [p for p in people if p["name"] == mention or p["name"] == name]
        people = exact or people
        if len(people) == 1:
            resolved.append(people[0])
        elif not people:
            raise UserFacingError(f"没有找到「{mention}」" + ("(在该部门)" if department else "") + ",请说完整姓名。")
        else:
            buttons = [{"title": f"{p['name']}({p['department']})",
                        "payload": payload(intent, username=p["username"], **button)} for p in people[:6]]
            raise UserFacingError(f"找到多位「{mention}」,请选择:", buttons)
    return resolved


def signer_move(text: str) -> str:
    """「减签」「把李明去掉」 → remove; 「后加签王丽华」「我同意后再让李明看」 → after; else ""."""
    if parse.is_button_payload(text):
        return ""
    if REMOVE_SIGNERS.search(text or ""):
        return "remove"
    return "after" if AFTER_SIGNERS.search(text or "") else ""


async def change_signers(api, dispatcher, tracker, who: str) -> list[dict[str, Any]]:
    """加签 (before the user decides), 后加签 (the user approves now, they sign after) or 减签."""
    message = tracker.latest_message.get("text", "") or ""
    entity_when = next(tracker.get_latest_entity_values("when"), None)  # a 「找到多位…」 button keeps it
    move = "remove" if entity_when == "remove" else entity_when or signer_move(message) or "before"
    if move == "remove":
        return await remove_signers(api, dispatcher, tracker, who, await task_to_remove_from(api, who, tracker))
    task = await resolve_task(api, who, tracker)
    button = {"task_id": task["id"], **({"when": "after"} if move == "after" else {})}
    verb = "后加签" if move == "after" else "加签"
    resolved = await people_named(api, who, tracker, "add_signers", **button,
                                  ask=f"请告诉我{verb}给谁,例如「{verb}给教务处的王丽华」。")
    body = {"users": [p["username"] for p in resolved], "opinion": ""}
    if move == "after":
        body.update(when="after", opinion=after_opinion(message))
    result = await api.decide(who, task["id"], "add-signers", body)
    names = "、".join(s["name"] for s in result["signers"] if s["status"] in ("pending", "waiting"))
    if move == "after":
        dispatcher.utter_message(text=f"已同意《{result['matter']['name']}》{result['number']},并后加签给 {names}:"
                                      "他们给出意见后,申请再继续流转。",
                                 json_message={DECISION_OUTCOME: "已同意并后加签"})
        return [SlotSet("current_task_id", None), SlotSet("task_ids", None)]
    dispatcher.utter_message(text=f"已将《{result['matter']['name']}》{result['number']}加签给 {names},"
                                  "等他们给出意见后会回到您这里审批。")
    return [SlotSet("current_task_id", None)]


def after_opinion(message: str) -> str:
    """「同意,按规定办理,后加签王丽华」 → 「按规定办理」: the parts that are neither the move nor a bare 同意."""
    parts = re.split(r"[,,。;;]", message or "")
    said = [parse.opinion(p) for p in parts if not AFTER_SIGNERS.search(p) and not SIGNERS_CLAUSE.search(p)]
    return ",".join(x for x in said if x)


async def task_to_remove_from(api, who: str, tracker) -> dict[str, Any]:
    """As for a decision; a task already approved with after-signers (「SW… 把李明去掉」) is in 已办."""
    try:
        return await resolve_task(api, who, tracker)
    except UserFacingError:
        number = parse.application_number(tracker.latest_message.get("text", "") or "")
        done = [t for t in await api.tasks(who, "done", limit=50) if t["number"] == number] if number else []
        if not done:
            raise
        return done[0]


async def remove_signers(api, dispatcher, tracker, who: str, task: dict[str, Any]) -> list[dict[str, Any]]:
    """减签: the signers named in the message who have not given their opinion yet."""
    detail = task if "removable_signers" in task else await api.task(who, task["id"])
    removable = [s for s in detail.get("signers") or [] if s["username"] in detail.get("removable_signers") or []]
    if not removable:
        raise UserFacingError(f"{detail['number']} 没有可以减签的人员(只能减去还没有给出意见的加签人员)。")
    message = tracker.latest_message.get("text", "") or ""
    chosen = [s for s in removable if s["name"] in message or s["username"] in
              list(tracker.get_latest_entity_values("username"))]
    if not chosen and len(removable) == 1 and not list(tracker.get_latest_entity_values("person")):
        chosen = removable  # 「减签」 with one signer left: that one
    if not chosen:
        buttons = [{"title": f"减去{s['name']}", "payload": payload("add_signers", task_id=detail["id"],
                                                                  username=s["username"], when="remove")}
                   for s in removable[:6]]
        raise UserFacingError("请问要减去哪位加签人员?还没有给出意见的有:"
                              + "、".join(s["name"] for s in removable) + "。", buttons)
    result = await api.decide(who, detail["id"], "remove-signers", {"users": [s["username"] for s in chosen]})
    left = "、".join(s["name"] for s in result["signers"] if s["status"] in ("pending", "waiting"))
    tail = f"仍在等待 {left} 的意见。" if left else "没有需要等待的加签意见了,请您继续审批。"
    dispatcher.utter_message(text=f"已从《{result['matter']['name']}》{result['number']}中减去"
                                  f"{'、'.join(s['name'] for s in chosen)}。" + tail)
    return [SlotSet("current_task_id", result["id"])]


class ActionAddSigners(BaseAction):
    """加签给教务处的王老师和李老师: people by name (and department); ambiguity → buttons.
    Also 后加签 (「后加签王丽华」「我同意后再让李明看」) and 减签 (「把李明去掉」), by their words."""

    action_name = "action_add_signers"

    async def act(self, dispatcher, tracker, domain, who):
        return await change_signers(self.api, dispatcher, tracker, who)
