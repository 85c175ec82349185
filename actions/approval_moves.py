"""The approval moves in chat (issue 15): 转办 / 委派 a task to someone named, and on an
application 撤回, 催办, 备注 and 抄送. 退回到某个环节 is a 退回 (actions/tasks.py).

Which task: as for a decision (resolve_task). Which application: a number in the message, else
for 备注 / 抄送 the application of the task the conversation is on, else the user's latest one
(of the matter mentioned, 「撤回我的用章申请」).
"""
from __future__ import annotations

import re
from typing import Any

from rasa_sdk.events import SlotSet

from . import text as parse
from .applications import find_application
from .base import BaseAction, UserFacingError
from .tasks import DECISION_OUTCOME, change_signers, people_named, resolve_task, signer_move, tasks_in_view

COMMENT_WORDS = re.compile(r"^(?:请|帮我)?(?:添加|加个|加一条|加一个|写个|写一条|补充)?(?:一下)?备注(?:一下)?")


def comment_text(message: str) -> str:
    """「备注:原件明天送到」 → 「原件明天送到」: what follows the word 备注."""
    rest = parse.APPLICATION_NUMBER.sub(" ", message or "").strip(parse.PUNCTUATION)
    return COMMENT_WORDS.sub("", rest).strip(parse.PUNCTUATION)


def names(people: list[dict[str, Any]]) -> str:
    return "、".join(p.get("name") or p["username"] for p in people)


async def application_in_view(api, who: str, tracker) -> dict[str, Any]:
    """For 备注 / 抄送: the application numbered in the message (the user's own or one they
    approve), else the one of the task in view, else the user's latest application."""
    chosen = next(tracker.get_latest_entity_values("application_id"), None)
    if chosen:  # a button (「找到多位…,请选择」) names it
        return {"id": int(chosen)}
    number = parse.application_number(tracker.latest_message.get("text", "") or "")
    if number:
        mine = [a for a in await api.applications(who, limit=50) if a["number"] == number]
        if mine:
            return mine[0]
        tasks = [t for t in await api.tasks(who, "pending", limit=50) if t["number"] == number]
        if not tasks:
            raise UserFacingError(f"没有找到申请 {number}。")
        return {"id": tasks[0]["application_id"], "number": number, "matter": tasks[0]["matter"]}
    viewed = tasks_in_view(tracker) or ([int(tracker.get_slot("current_task_id"))]
                                        if tracker.get_slot("current_task_id") else [])
    if viewed:
        task = await api.task(who, viewed[0])
        return {"id": task["application_id"], "number": task["number"], "matter": task["matter"]}
    return await find_application(api, who, tracker)


class _HandOver(BaseAction):
    """转办 / 委派 the task in view to one person named."""

    intent = ""
    move = ""
    verb = ""

    async def act(self, dispatcher, tracker, domain, who):
        if signer_move(tracker.latest_message.get("text", "")):  # 「我同意后再让李明看」 is a 后加签, not a 委派
            return await change_signers(self.api, dispatcher, tracker, who)
        task = await resolve_task(self.api, who, tracker)
        people = await people_named(self.api, who, tracker, self.intent, task_id=task["id"],
                                    ask=f"请告诉我{self.verb}给谁,例如「{self.verb}给教务处的李明」。")
        if len(people) != 1:
            raise UserFacingError(f"{self.verb}只能给一位,请只说一个人。")
        result = await self.api.decide(who, task["id"], self.move, {"to": people[0]["username"]})
        dispatcher.utter_message(text=self.done(result, names(people)),
                                 json_message={DECISION_OUTCOME: f"已{self.verb}"})
        return [SlotSet("current_task_id", None), SlotSet("task_ids", None)]

    def done(self, result: dict[str, Any], to: str) -> str:
        raise NotImplementedError


class ActionTransferTask(_HandOver):
    """「转给教务处的李明」: the task becomes theirs; it stays in the user's 已办 as 转办."""

    action_name = "action_transfer_task"
    intent, move, verb = "transfer_task", "transfer", "转办"

    def done(self, result: dict[str, Any], to: str) -> str:
        return f"已将《{result['matter']['name']}》{result['number']}转办给{to},由对方审批;您的已办里会显示「转办」。"


class ActionDelegateTask(_HandOver):
    """「让王丽华先看看」: they give an opinion, then the task comes back to the user to decide."""

    action_name = "action_delegate_task"
    intent, move, verb = "delegate_task", "delegate", "委派"

    def done(self, result: dict[str, Any], to: str) -> str:
        return f"已将《{result['matter']['name']}》{result['number']}委派给{to}先处理,对方给出意见后会回到您这里决定。"


class ActionWithdrawApplication(BaseAction):
    """「撤回我的用章申请」: back to the user to edit and resubmit, while nobody has decided."""

    action_name = "action_withdraw_application"

    async def act(self, dispatcher, tracker, domain, who):
        application = await find_application(self.api, who, tracker, status="running")
        done = await self.api.withdraw(who, application["id"])
        dispatcher.utter_message(text=f"已撤回《{done['matter']['name']}》{done['number']},相关待办已取消。"
                                      "修改后说「重新提交」即可再次提交;不再办理可以说「终止」。")
        return []


class ActionRemindApplication(BaseAction):
    """「催一下」: the current assignees of the user's running application are reminded."""

    action_name = "action_remind_application"

    async def act(self, dispatcher, tracker, domain, who):
        application = await find_application(self.api, who, tracker, status="running")
        done = await self.api.remind(who, application["id"])
        node = (done.get("current_node") or {}).get("name", "当前环节")
        holders = names(done.get("current_assignees") or []) or "办理人"
        dispatcher.utter_message(text=f"已催办《{done['matter']['name']}》{done['number']}:"
                                      f"已提醒「{node}」的 {holders} 尽快处理。每个环节 4 小时内只能催办一次。")
        return []


class ActionCommentApplication(BaseAction):
    """「备注:原件明天送到」: a remark in the flow records, no change of state."""

    action_name = "action_comment_application"

    async def act(self, dispatcher, tracker, domain, who):
        text = comment_text(tracker.latest_message.get("text", "") or "")
        if not text:
            raise UserFacingError("请把备注内容一起告诉我,例如「备注:原件明天送到」。")
        application = await application_in_view(self.api, who, tracker)
        done = await self.api.comment(who, application["id"], text)
        dispatcher.utter_message(text=f"已在《{done['matter']['name']}》{done['number']}的流转记录中添加备注:{text}")
        return []


class ActionCcApplication(BaseAction):
    """「抄送给李明」: they can read the application in 抄送我的, and are told so."""

    action_name = "action_cc_application"

    async def act(self, dispatcher, tracker, domain, who):
        application = await application_in_view(self.api, who, tracker)
        people = await people_named(self.api, who, tracker, "cc_application", application_id=application["id"],
                                    ask="请告诉我抄送给谁,例如「抄送给教务处的李明」。")
        done = await self.api.cc(who, application["id"], [p["username"] for p in people])
        dispatcher.utter_message(text=f"已将《{done['matter']['name']}》{done['number']}抄送给{names(people)},"
                                      "对方可在「我的申请 › 抄送我的」查阅。")
        return []
