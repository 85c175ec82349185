"""Batch decisions (issue 16, 3): 「全部同意」「把请假的都同意了」「同意第1个和第3个,按规定办理」.

First the list of what would be decided and one question (确认 / 取消); on 确认 each task is
decided by its own request, so one that fails (decided meanwhile by someone else) does not undo
the others, and the answer says which succeeded and which failed and why. A batch holds only
tasks that wait for this user's decision now (their pending list, not waiting on signers);
numbers (第1个和第3个) refer to the last list shown. The opinion in the sentence applies to each.
"""
from __future__ import annotations

import re
from typing import Any

from rasa_sdk.events import SlotSet

from . import text as parse
from .backend_client import BackendError, BackendUnavailable
from .base import BaseAction, UserFacingError
from .matters import mentioned_matters
from .render import task_line

BATCH = "batch_decision"  # slot: {"move", "opinion", "tasks": [{id, number, matter, kind}]}
CONFIRMING = "batch"  # value of pending_confirmation while the question is open
BATCH_WORDS = re.compile(r"全部|全都|都|所有|统统|一并|一起|批量|一键")
# 「第1、3个」「第1个和第3个」「1和3」 after a 第: every number in the run.
ORDINAL_RUN = re.compile(r"第\s*[0-9一二三四五六七八九十两]+(?:\s*(?:个|条|项|件)?\s*(?:[、,,和与及跟]|以及)\s*第?\s*"
                         r"[0-9一二三四五六七八九十两]+)+\s*(?:个|条|项|件)?")
VERB = re.compile(r"(?:同意|批准|通过|退回|驳回|打回)(?:了|吧|掉|一下)*")
VERBS = {"approve": "同意", "return": "退回"}
MAX_BATCH = 50


def ordinals(text: str) -> list[int]:
    """Every position named: 「第1个和第3个」 → [1, 3]; 「第2个」 → [2]."""
    run = ORDINAL_RUN.search(text or "")
    if run:
        return [n for n in (parse.ordinal("第" + part) for part in re.findall(r"[0-9一二三四五六七八九十两]+",
                                                                           run.group(0))) if n]
    one = parse.ordinal(text or "")
    return [one] if one and one > 0 else []


def is_batch(text: str) -> bool:
    """「全部同意」「把请假的都同意了」「同意第1个和第3个」 — not a button click."""
    if parse.is_button_payload(text) or parse.application_number(text):
        return False
    return bool(BATCH_WORDS.search(text or "")) or len(ordinals(text)) > 1


def batch_opinion(text: str) -> str:
    """What follows the deciding verb: 「全部同意,按规定办理」 → 「按规定办理」; 「都同意了」 → ""."""
    text = parse.ORDINAL.sub(" ", ORDINAL_RUN.sub(" ", text or ""))
    found = VERB.search(text)
    rest = text[found.end():] if found else ""
    rest = re.sub(r"^[\s,,。.!!;;:：、~～]*(?:吧|了)?", "", rest)
    return rest.strip(parse.PUNCTUATION)


async def chosen(api, who: str, tracker, move: str) -> tuple[list[dict[str, Any]], list[str]]:
    """The pending tasks the sentence means, and notes on those left out."""
    text = tracker.latest_message.get("text", "") or ""
    mine = await api.tasks(who, "pending", limit=MAX_BATCH)
    notes: list[str] = []
    positions = ordinals(text)
    if positions:
        listed = [int(i) for i in tracker.get_slot("task_ids") or []] or [t["id"] for t in mine]
        wrong = [p for p in positions if not 1 <= p <= len(listed)]
        if wrong:
            raise UserFacingError(f"列表里没有第 {'、'.join(map(str, wrong))} 个,共 {len(listed)} 个待办。"
                                  "说「我的待办」查看最新列表。")
        by_id = {t["id"]: t for t in mine}
        picked = [listed[p - 1] for p in dict.fromkeys(positions)]
        gone = [f"第{p}个" for p, i in zip(dict.fromkeys(positions), picked) if i not in by_id]
        if gone:
            notes.append(f"{'、'.join(gone)}已不在您的待办中,不包括在内。")
        tasks = [by_id[i] for i in picked if i in by_id]
    else:
        codes, words = await mentioned_matters(api, who, tracker)
        if words and not codes:
            raise UserFacingError(f"没有找到与「{'、'.join(words)}」相关的事项。说「我的待办」可以查看全部待办。")
        tasks = [t for t in mine if not words or t["matter"]["code"] in codes]
    waiting = [t for t in tasks if t["status"] != "pending"]
    if waiting:
        notes.append("、".join(t["number"] for t in waiting) + " 正在等待加签意见,暂不能办理,不包括在内。")
    tasks = [t for t in tasks if t["status"] == "pending"]
    if move == "return":
        opinions_only = [t for t in tasks if t["kind"] != "approval"]
        if opinions_only:
            notes.append("、".join(t["number"] for t in opinions_only) + " 是请您给意见的加签/委派任务,不能退回,不包括在内。")
        tasks = [t for t in tasks if t["kind"] == "approval"]
    return tasks, notes


async def ask_batch(api, dispatcher, tracker, who: str, move: str) -> list[dict[str, Any]]:
    """List what would be decided and ask once; the decisions wait for 确认."""
    text = tracker.latest_message.get("text", "") or ""
    opinion = batch_opinion(text)
    if move == "return" and not opinion:
        raise UserFacingError("批量退回需要填写原因,例如「全部退回,材料不全」。")
    tasks, notes = await chosen(api, who, tracker, move)
    verb = VERBS[move]
    if not tasks:
        raise UserFacingError("\n".join([f"没有可以{verb}的待办。"] + notes))
    said = f",意见:{opinion}" if opinion else ""
    lines = [f"将{verb}以下 {len(tasks)} 件待办{said}:"] + [task_line(i + 1, t) for i, t in enumerate(tasks)]
    lines += notes + [f"确认全部{verb}吗?"]
    dispatcher.utter_message(text="\n".join(lines), buttons=[{"title": "确认", "payload": "/affirm"},
                                                             {"title": "取消", "payload": "/deny"}])
    kept = [{"id": t["id"], "number": t["number"], "kind": t["kind"]} for t in tasks]
    return [SlotSet(BATCH, {"move": move, "opinion": opinion, "tasks": kept}),
            SlotSet("pending_confirmation", CONFIRMING)]


def request_for(move: str, kind: str, opinion: str) -> tuple[str, dict[str, Any]]:
    """The API call deciding one task of the batch: an added signer's or a delegate's 同意 is their opinion."""
    if move == "approve" and kind != "approval":
        return "sign", {"opinion": opinion or "同意", "agree": True}
    return move, {"opinion": opinion}


class ActionConfirmBatch(BaseAction):
    """确认: each task decided on its own; the answer lists successes and failures."""

    action_name = "action_confirm_batch"

    async def act(self, dispatcher, tracker, domain, who):
        batch = tracker.get_slot(BATCH) or {}
        if not batch.get("tasks"):
            raise UserFacingError("没有等待确认的批量操作。")
        verb = VERBS[batch["move"]]
        done, failed = [], []
        for task in batch["tasks"]:
            move, body = request_for(batch["move"], task["kind"], batch.get("opinion", ""))
            try:
                await self.api.decide(who, task["id"], move, body)
                done.append(task["number"])
            except BackendError as error:
                failed.append(f"{task['number']}:{error.message}")
            except BackendUnavailable:
                failed.append(f"{task['number']}:校务系统暂时无法访问,请稍后再试")
        lines = [f"已{verb} {len(done)} 件:{'、'.join(done)}。" if done else f"没有{verb}成功的待办。"]
        if failed:
            lines.append(f"{len(failed)} 件未能{verb}:")
            lines += [f"· {line}" for line in failed]
        dispatcher.utter_message(text="\n".join(lines))
        return self.on_failure(tracker)

    def on_failure(self, tracker):
        return [SlotSet(BATCH, None), SlotSet("pending_confirmation", None),
                SlotSet("current_task_id", None), SlotSet("task_ids", None)]
