"""Approver notifications end to end: backend outbox → notifier (`python -m backend notify`) →
Rasa trigger_intent → wecom channel → the simulator, and the approver's answers back."""
from __future__ import annotations

import re
import time
from typing import Any, Iterator

import pytest

from devtools.stack import Stack
from tests.bot.test_conversations import _submit_leave as submit_leave

from .conftest import click, content_of, last_id, running_stack, say, sent_to, wait_for_sends


@pytest.fixture(scope="module")
def notify_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    for stack in running_stack(tmp_path_factory, notifier=True):
        status, domain = stack.rasa_api("GET", "/domain", headers={"Accept": "application/json"})
        if status != 200 or "EXTERNAL_notification" not in str(domain.get("intents")):
            pytest.fail(f"{stack.model} predates the EXTERNAL_notification intent: retrain (`make train`, "
                        "or a private model passed as STACK_MODEL)")
        yield stack


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
    assert list(buttons) == ["同意", "退回", "加签", "详情"]
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
        leaves = [submit_leave(stack, "t2302") for _ in range(3)]  # queued while nobody delivers
        time.sleep(1.5)
        assert sent_to(stack, "zengzhiyuan", mark) == []
        stack.restart("backend")
    finally:
        stack.resume("notifier")
    for leave in leaves:
        task_card(stack, "zengzhiyuan", leave["number"], after=mark)
    time.sleep(4)  # a doubled delivery would show up by now
    cards = [m for m in sent_to(stack, "zengzhiyuan", mark) if m["msgtype"] == "template_card"]
    for leave in leaves:
        assert sum(leave["number"] in content_of([c]) for c in cards) == 1
