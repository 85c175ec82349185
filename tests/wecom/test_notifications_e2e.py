"""Approver notifications end to end: backend outbox → notifier (`python -m backend notify`) →
Rasa trigger_intent → wecom channel → the simulator, and the approver's answers back."""
from __future__ import annotations

import re
import sqlite3
import time
from typing import Any, Iterator, Optional

import pytest

from devtools.stack import Stack
from tests.support.chat import submit_leave

from tests.support.wecom import click, content_of, last_id, say, sent_before_a_greeting, sent_to, wait_for_sends


@pytest.fixture(scope="module")
def notify_stack(wecom_stack: Stack) -> Iterator[Stack]:
    """The run's stack with the notifier running, once what earlier tests (of any suite) queued went out."""
    stack = wecom_stack
    status, domain = stack.rasa_api("GET", "/domain", headers={"Accept": "application/json"})
    if status != 200 or "EXTERNAL_notification" not in str(domain.get("intents")):
        pytest.fail(f"{stack.model} predates the EXTERNAL_notification intent: retrain (`make train`, "
                    "or a private model passed as STACK_MODEL)")
    stack.start_notifier()
    try:
        outbox_settled(stack, seconds=300)  # a Rasa turn per row: tests/bot leaves a few dozen
        yield stack
    finally:
        stack.stop("notifier")


def task_card(stack: Stack, userid: str, number: str, after: int = 0, seconds: float = 60) -> dict[str, Any]:
    """The card about application ``number`` that reached ``userid``, once it did."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        cards = [m for m in sent_to(stack, userid, after)
                 if m["msgtype"] == "template_card" and number in content_of([m])]
        if cards:
            return cards[0]
        time.sleep(0.3)
    raise AssertionError(f"no card about {number} for {userid}: {sent_to(stack, userid, after)}")


def application(stack: Stack, username: str, application_id: int) -> dict[str, Any]:
    status, detail = stack.api(username, "GET", f"/applications/{application_id}")
    assert status == 200, detail
    return detail


def test_the_approver_gets_a_card_taps_approve_and_the_applicant_is_told(notify_stack):
    stack = notify_stack
    applicant_mark = last_id(stack, "zhangwei")
    leave = submit_leave(stack, "t2001")
    card = task_card(stack, "hansongtao", leave["number"])
    body = card["body"]
    assert "新的待办" in content_of([card]) and "张伟" in content_of([card])
    buttons = {b["text"]: b["key"] for b in body["button_list"]}
    assert list(buttons) == ["同意", "退回", "加签", "转办", "委派", "详情"]
    task_id = re.search(r'"task_id": "(\d+)"', buttons["同意"]).group(1)
    assert buttons["同意"] == f'/approve{{"task_id": "{task_id}"}}'
    reply = click(stack, "hansongtao", card, "同意")
    assert "同意" in content_of(reply)
    detail = application(stack, "t2001", leave["id"])
    assert [r["action"] for r in detail["records"]].count("approve") == 1
    assert detail["current_node"]["name"] != "部门负责人审批"
    update = next(m for m in sent_to(stack, "hansongtao") if m["id"] == card["id"])["card_update"]
    assert update is not None and update["button"]["replace_name"].startswith("已同意 · ")
    told = content_of(wait_for_sends(stack, "zhangwei", applicant_mark, seconds=60))
    assert leave["number"] in told and "部门负责人审批" in told


def test_tapping_transfer_on_a_card_asks_whom_and_the_answer_hands_that_task_over(notify_stack):
    stack = notify_stack
    leave = submit_leave(stack, "t2001")
    card = task_card(stack, "hansongtao", leave["number"])
    asked = content_of(click(stack, "hansongtao", card, "转办"))
    assert "转办给谁" in asked
    done = content_of(say(stack, "hansongtao", "转给教务处的李明"))
    assert "转办给李明" in done and leave["number"] in done
    status, tasks = stack.api("t1204", "GET", "/tasks")
    assert leave["number"] in {t["number"] for t in tasks["items"]}
    assert application(stack, "t2001", leave["id"])["records"][-1]["action"] == "transfer"


def test_a_typed_return_right_after_a_card_acts_on_that_task(notify_stack):
    stack = notify_stack
    applicant_mark = last_id(stack, "fengyaqin")
    leave = submit_leave(stack, "t2103")
    task_card(stack, "hansongtao", leave["number"])
    reply = say(stack, "hansongtao", "退回 附件不全")
    assert "退回" in content_of(reply)
    detail = application(stack, "t2103", leave["id"])
    assert detail["status"] == "returned"
    assert [r["opinion"] for r in detail["records"] if r["action"] == "return"] == ["附件不全"]
    told = content_of(wait_for_sends(stack, "fengyaqin", applicant_mark, seconds=60))
    assert leave["number"] in told and "附件不全" in told


def test_the_outbox_survives_notifier_and_backend_restarts_with_nothing_lost_or_doubled(notify_stack):
    stack = notify_stack
    mark = last_id(stack, "zengzhiyuan")
    stack.stop("notifier")
    try:
        leaves = [submit_leave(stack, "t2302") for _ in range(3)]
        queued = [outbox_query(stack, "SELECT status FROM outbox WHERE application_id = ? AND event = 'task_assigned'",
                               leave["id"]) for leave in leaves]
        assert queued == ["pending"] * 3 and sent_to(stack, "zengzhiyuan", mark) == []  # nobody delivers
        stack.restart("backend")
    finally:
        stack.resume("notifier")
    for leave in leaves:
        task_card(stack, "zengzhiyuan", leave["number"], after=mark)
        outbox_settled(stack, leave["id"])  # the notifier has nothing more to send about it …
    # … and a push already on its way to this conversation is shown before the greeting.
    cards = [m for m in sent_before_a_greeting(stack, "zengzhiyuan", mark) if m["msgtype"] == "template_card"]
    for leave in leaves:
        assert sum(leave["number"] in content_of([c]) for c in cards) == 1


# ------------------------------------------------------------ exactly once, whatever fails
def cards_about(stack: Stack, userid: str, number: str, after: int) -> list[dict[str, Any]]:
    return [m for m in sent_to(stack, userid, after) if m["msgtype"] == "template_card" and number in content_of([m])]


def outbox_query(stack: Stack, sql: str, *args: Any) -> Any:
    """One value from the stack's database (the backend's SQLite file)."""
    with sqlite3.connect(stack.env["DATABASE_URL"].removeprefix("sqlite:///")) as connection:
        row = connection.execute(sql, args).fetchone()
    return row[0] if row else None


def outbox_settled(stack: Stack, application_id: Optional[int] = None, seconds: float = 90) -> None:
    """Wait until the notifier marked every row about this application (any, without one) sent or gave up."""
    about = "" if application_id is None else " AND application_id = ?"
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not outbox_query(stack, f"SELECT count(*) FROM outbox WHERE status = 'pending'{about}",
                            *([] if application_id is None else [application_id])):
            return
        time.sleep(0.3)
    raise AssertionError(f"outbox rows {'' if application_id is None else f'of application {application_id} '}"
                         f"still pending after {seconds} s")


def cards_for_a_leave_pushed_with(stack: Stack, fault: dict[str, Any]) -> tuple[int, int]:
    """A leave submitted while message/send has ``fault``: (cards the approver got about it,
    tries the notifier made), once its outbox rows settled."""
    mark = last_id(stack, "hansongtao")
    status, _ = stack.sim("POST", "faults", {**fault, "path": "message/send"})
    assert status == 200
    leave = submit_leave(stack, "t2001")
    task_card(stack, "hansongtao", leave["number"], after=mark, seconds=90)
    outbox_settled(stack, leave["id"])
    assert outbox_error(stack, leave["id"]) is None  # sent in the end
    tries = outbox_query(stack, "SELECT attempts FROM outbox WHERE application_id = ? AND event = 'task_assigned'",
                         leave["id"])
    return len(cards_about(stack, "hansongtao", leave["number"], mark)), tries


def test_a_push_wecom_answers_with_http_502_arrives_once_when_tried_again(notify_stack):
    cards, tries = cards_for_a_leave_pushed_with(notify_stack, {"http_status": 502, "count": 2})
    assert cards == 1 and tries >= 2


def test_a_push_whose_answer_from_wecom_times_out_is_tried_again_and_shown_once(notify_stack):
    """WeCom delivered the card but answered too late (the client gives up after 10 s): the
    notifier tries again, the same card goes out with WeCom's duplicate check, and WeCom drops it."""
    cards, tries = cards_for_a_leave_pushed_with(notify_stack, {"delay": 12, "count": 1})
    assert cards == 1 and tries >= 2  # the first try did fail


def test_a_push_while_the_action_server_or_the_backend_is_down_arrives_once_after(notify_stack):
    stack = notify_stack
    for down in ("actions", "backend"):
        mark = last_id(stack, "hansongtao")
        stack.stop("notifier")
        leave = submit_leave(stack, "t2001")  # queued; nobody delivers yet
        stack.stop(down)
        try:
            stack.resume("notifier")  # Rasa answers 200 but shows nothing: the row stays pending
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and "did not confirm" not in (outbox_error(stack, leave["id"]) or ""):
                time.sleep(0.3)
            assert "did not confirm" in (outbox_error(stack, leave["id"]) or ""), down
            assert cards_about(stack, "hansongtao", leave["number"], mark) == []
        finally:
            stack.resume(down)
        task_card(stack, "hansongtao", leave["number"], after=mark, seconds=90)
        outbox_settled(stack, leave["id"])
        assert len(cards_about(stack, "hansongtao", leave["number"], mark)) == 1, down


def outbox_error(stack: Stack, application_id: int) -> Any:
    return outbox_query(stack, "SELECT last_error FROM outbox WHERE application_id = ? AND event = 'task_assigned'",
                        application_id)


def test_a_push_that_failed_then_rasa_restarted_arrives_once(notify_stack):
    stack = notify_stack
    mark = last_id(stack, "hansongtao")
    stack.sim("POST", "faults", {"http_status": 502, "count": 1000, "path": "message/send"})
    try:
        leave = submit_leave(stack, "t2001")
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not outbox_error(stack, leave["id"]):
            time.sleep(0.3)
        assert outbox_error(stack, leave["id"])  # tried, and failed
        stack.restart("rasa")
    finally:
        stack.sim("DELETE", "faults")
    task_card(stack, "hansongtao", leave["number"], after=mark, seconds=90)
    outbox_settled(stack, leave["id"])
    assert len(cards_about(stack, "hansongtao", leave["number"], mark)) == 1


# ------------------------------------------------------------ a decision acts on what was seen
def test_a_card_arriving_after_a_look_makes_a_bare_approve_ask_which(notify_stack):
    stack = notify_stack
    first = submit_leave(stack, "t2001")
    task_card(stack, "hansongtao", first["number"])
    looked = content_of(say(stack, "hansongtao", f"看看 {first['number']}"))
    assert first["number"] in looked
    mark = last_id(stack, "hansongtao")
    second = submit_leave(stack, "t2103")  # its card arrives between the look and the 「同意」
    task_card(stack, "hansongtao", second["number"], after=mark)
    question = say(stack, "hansongtao", "同意,情况属实")
    asked = content_of(question)
    assert "要同意哪一个" in asked and first["number"] in asked and second["number"] in asked
    assert application(stack, "t2001", first["id"])["current_node"]["name"] == "部门负责人审批"
    assert application(stack, "t2103", second["id"])["current_node"]["name"] == "部门负责人审批"
    card = next(m for m in question if m["msgtype"] == "template_card")
    choice = next(b["text"] for b in card["body"]["button_list"] if first["number"] in b["text"])
    done = content_of(click(stack, "hansongtao", card, choice))
    assert "已同意" in done and first["number"] in done
    decided = application(stack, "t2001", first["id"])
    assert [r["opinion"] for r in decided["records"] if r["action"] == "approve"] == ["情况属实"]
    assert application(stack, "t2103", second["id"])["current_node"]["name"] == "部门负责人审批"
