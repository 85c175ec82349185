"""The approver's chat of issue 16 on recorded trackers against the fake backend (conftest.py):
已办 narrowed by the sentence, batch decisions (asked once, then each decided on its own),
several terminations at once, and 后加签 / 减签 told apart by their words. 沈立群
(wecom:shenliqun) has 张伟's two seal requests (tasks 2 and 1) to approve."""
from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from actions import batch_decisions as batch, done_tasks as done
from actions.applications import ActionConfirmTerminate, ActionTerminateApplication
from actions.batch_decisions import ActionConfirmBatch
from actions.tasks import ActionDecideTask, ActionListTasks, after_opinion, signer_move

NOW = datetime(2026, 12, 2, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))  # a Wednesday


def said(recorded, name: str, text: str, intent: str, **slots):
    tracker = recorded(name)
    tracker.latest_message = {**tracker.latest_message, "text": text, "intent": {"name": intent}, "entities": []}
    tracker.slots.update(slots)
    return tracker


# ------------------------------------------------------------ what a sentence says

@pytest.mark.parametrize("text, expected", [
    ("全部同意", True), ("把请假的都同意了", True), ("同意第1个和第3个", True), ("第1、3个同意", True),
    ("同意第2个,情况属实", False), ("同意", False), ("同意 SW20261201-0001 全部材料已齐", False),
    ('/approve{"task_id": "2"}', False)])
def test_a_batch_is_said_with_all_or_several_numbers(text, expected):
    assert batch.is_batch(text) is expected


@pytest.mark.parametrize("text, opinion", [
    ("全部同意,按规定办理", "按规定办理"), ("把请假的都同意了", ""), ("同意第1个和第3个,按规定办理", "按规定办理"),
    ("全部退回,材料不全", "材料不全"), ("都同意吧", "")])
def test_the_opinion_of_a_batch_is_what_follows_the_verb(text, opinion):
    assert batch.batch_opinion(text) == opinion


def test_numbers_in_a_run_are_all_read():
    assert batch.ordinals("把第1个和第3个都终止") == [1, 3]
    assert batch.ordinals("第一、第三和第五个") == [1, 3, 5]
    assert batch.ordinals("同意第2个") == [2]


@pytest.mark.parametrize("text, start, end", [
    ("本周我审批了什么", date(2026, 11, 30), date(2026, 12, 2)),
    ("上个月处理的请假", date(2026, 11, 1), date(2026, 11, 30)),
    ("今天处理过的", date(2026, 12, 2), date(2026, 12, 2)),
    ("上周的已办", date(2026, 11, 23), date(2026, 11, 29)),
    ("最近7天处理过的", date(2026, 11, 26), date(2026, 12, 2)),
    ("最近两周的已办", date(2026, 11, 19), date(2026, 12, 2)),  # a spelled-out count (text.number)
    ("12月1日处理的", date(2026, 12, 1), date(2026, 12, 1)),
    ("12月20日处理的", date(2025, 12, 20), date(2025, 12, 20))])  # the past is meant
def test_a_period_is_read_in_the_colleges_calendar(text, start, end):
    found = done.period(text, NOW)
    assert (found.start, found.end) == (start, end)


def test_done_is_told_apart_from_my_applications_and_progress():
    assert all(map(done.asks_for_done, ["我已经处理过哪些", "看看我的已办", "本周我审批了什么", "上个月处理的请假"]))
    assert not any(map(done.asks_for_done, ["我的申请", "我的请假批了没", "我有什么待办"]))
    assert done.outcome("上个月处理过的退回的") == (("return",), "退回")
    assert done.outcome("我处理过的不同意的") == (("disagree",), "不同意")
    assert done.outcome("我已经处理过哪些") == ((), "")


@pytest.mark.parametrize("text, move", [
    ("减签", "remove"), ("把李明去掉", "remove"), ("不用让李明看了", "remove"), ("后加签王丽华", "after"),
    ("我同意后再让李明看", "after"), ("同意,然后请李明看一下", "after"), ("李明就不用签了", "remove"), ("减去李明的加签", "remove"), ("撤掉李明的加签", "remove"), ("加签给李明", ""), ("让王丽华先看看", ""), ("同意第2个", "")])
def test_remove_and_after_signers_are_told_by_their_words(text, move):
    assert signer_move(text) == move


def test_an_after_signers_opinion_leaves_out_the_move_and_a_bare_yes():
    assert after_opinion("同意,按规定办理,后加签王丽华") == "按规定办理"
    assert after_opinion("我同意后再让李明看") == ""
    assert after_opinion("同意,然后请李明看一下") == ""
    assert after_opinion("同意,情况属实,之后请王丽华签个意见") == "情况属实"


# ------------------------------------------------------------ 已办

async def test_done_tasks_are_asked_for_with_the_period_and_listed_newest_decided_first(run, recorded, backend):
    backend.tasks_by_id[1] = {**backend.tasks_by_id[1], "status": "done", "decision": "approve",
                              "decision_label": "同意", "opinion": "情况属实", "decided_at": "2026-12-01T09:00:00+08:00"}
    backend.tasks_by_id[2] = {**backend.tasks_by_id[2], "status": "done", "decision": "return",
                              "decision_label": "退回", "opinion": "材料不全", "decided_at": "2026-12-01T11:00:00+08:00"}
    result = await run(ActionListTasks, said(recorded, "list_tasks", "本周我审批了什么", "list_tasks"))
    [(status, filters)] = backend.task_queries
    assert status == "done" and set(filters) == {"decided_from", "decided_to"}
    lines = result.texts[0].splitlines()
    assert lines[0].startswith("您办理过的任务(本周),共 2 件")
    assert "SW20261201-0002" in lines[1] and "退回:材料不全" in lines[1]
    assert "SW20261201-0001" in lines[2] and "同意:情况属实" in lines[2]
    assert backend.commands == []


async def test_no_done_task_in_the_period_says_so(run, recorded, backend):
    result = await run(ActionListTasks, said(recorded, "list_tasks", "上个月退回过的", "list_tasks"))
    assert backend.task_queries[0][1]["decision"] == "return"
    assert result.texts == ["没有找到您办理过的任务(上个月、退回的)。说「我的待办」可以查看待处理的任务。"]


# ------------------------------------------------------------ batch decisions

async def test_all_approved_lists_them_asks_once_and_decides_nothing_yet(run, recorded, backend):
    result = await run(ActionDecideTask, said(recorded, "approve_second_listed", "全部同意,按规定办理", "approve"))
    [message] = result.messages
    assert message["text"].startswith("将同意以下 2 件待办,意见:按规定办理:")
    assert "SW20261201-0002" in message["text"] and "SW20261201-0001" in message["text"]
    assert [b["payload"] for b in message["buttons"]] == ["/affirm", "/deny"]
    assert backend.commands == []
    assert result.slots["pending_confirmation"] == "batch"
    assert result.slots["batch_decision"] == {"move": "approve", "opinion": "按规定办理", "tasks": [
        {"id": 2, "number": "SW20261201-0002", "kind": "approval"},
        {"id": 1, "number": "SW20261201-0001", "kind": "approval"}]}


async def test_numbers_pick_from_the_last_list_and_out_of_range_decides_nothing(run, recorded, backend):
    result = await run(ActionDecideTask, said(recorded, "approve_second_listed", "同意第2个和第5个", "approve"))
    assert result.texts == ["列表里没有第 5 个,共 2 个待办。说「我的待办」查看最新列表。"] and result.events == []
    result = await run(ActionDecideTask, said(recorded, "approve_second_listed", "第2、1个同意", "approve"))
    assert [t["id"] for t in result.slots["batch_decision"]["tasks"]] == [1, 2]


async def test_a_batch_return_needs_a_reason(run, recorded, backend):
    result = await run(ActionDecideTask, said(recorded, "approve_second_listed", "全部退回", "return_task"))
    assert result.texts == ["批量退回需要填写原因,例如「全部退回,材料不全」。"] and result.events == []


async def test_confirming_decides_each_and_reports_the_one_decided_meanwhile(run, recorded, backend):
    backend.tasks_by_id[2] = {**backend.tasks_by_id[2], "status": "done"}  # someone else was quicker
    pending = {"move": "approve", "opinion": "按规定办理", "tasks": [
        {"id": 2, "number": "SW20261201-0002", "kind": "approval"},
        {"id": 1, "number": "SW20261201-0001", "kind": "approval"}]}
    result = await run(ActionConfirmBatch, said(recorded, "approve_second_listed", "确认", "affirm",
                                                batch_decision=pending, pending_confirmation="batch"))
    assert backend.commands == [("decide", "wecom:shenliqun", 1, "approve", {"opinion": "按规定办理"})]
    assert result.texts == ["已同意 1 件:SW20261201-0001。\n1 件未能同意:\n· SW20261201-0002:该待办已处理"]
    assert result.slots["batch_decision"] is None and result.slots["pending_confirmation"] is None


def test_an_added_signers_share_of_a_batch_approval_is_their_opinion():
    assert batch.request_for("approve", "signer", "") == ("sign", {"opinion": "同意", "agree": True})
    assert batch.request_for("approve", "approval", "好") == ("approve", {"opinion": "好"})


# ------------------------------------------------------------ several terminations

async def test_several_listed_applications_are_terminated_each_on_its_own(run, recorded, backend):
    listed = [a["id"] for a in await backend.applications("t2001")]
    running = [i for i in listed if backend.applications_by_id[i]["status"] in ("running", "returned")]
    tracker = said(recorded, "terminate_asked", "把第1个和第2个都终止", "terminate_application",
                   application_ids=listed)
    result = await run(ActionTerminateApplication, tracker)
    assert result.slots["confirm_terminate"] == [i for i in listed[:2] if i in running]
    assert backend.commands == []


async def test_a_listed_task_no_longer_pending_is_left_out_and_said(run, recorded, backend):
    backend.tasks_by_id[1] = {**backend.tasks_by_id[1], "status": "done"}  # task_ids is [2, 1]
    result = await run(ActionDecideTask, said(recorded, "approve_second_listed", "同意第1个和第2个", "approve"))
    assert [t["id"] for t in result.slots["batch_decision"]["tasks"]] == [2]
    assert "第2个已不在您的待办中,不包括在内。" in result.texts[0] and backend.commands == []
