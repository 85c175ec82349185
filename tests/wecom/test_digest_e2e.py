"""The morning digest end to end: the notifier (`python -m backend notify`, the digest due at
once: DIGEST_TIME=00:00 every day) → Rasa trigger_intent → wecom channel → the simulator as a
card with 「查看待办」, whose tap lists the approver's tasks; a restarted notifier sends no second one."""
from __future__ import annotations

import re
import time
from typing import Any, Iterator

import pytest

from devtools.stack import Stack
from tests.support.chat import submit_leave
from tests.support.wecom import click, content_of, last_id, sent_before_a_greeting, sent_to

APPROVER, USERNAME = "hansongtao", "t2101"


@pytest.fixture(scope="module")
def digest_stack(wecom_stack: Stack) -> Iterator[Stack]:
    """The run's stack whose notifier, once started here, finds today's digest due; off again after."""
    stack = wecom_stack
    stack.env.update({"DIGEST_TIME": "00:00", "DIGEST_DAYS": "mon-sun"})
    try:
        yield stack
    finally:
        if "notifier" in stack.names:
            stack.stop("notifier")
        stack.env.update({"DIGEST_TIME": "off"})
        stack.env.pop("DIGEST_DAYS", None)


def digest_cards(stack: Stack, userid: str, after: int) -> list[dict[str, Any]]:
    return [m for m in sent_to(stack, userid, after)
            if m["msgtype"] == "template_card" and "早上好" in m["body"]["main_title"]["title"]]


def pending_count(stack: Stack, username: str) -> int:
    status, answer = stack.api(username, "GET", "/tasks?status=pending&limit=100")
    assert status == 200, answer
    return sum(task["status"] == "pending" for task in answer["items"])


def test_the_digest_is_a_card_whose_button_lists_the_tasks_and_comes_once_a_day(digest_stack):
    stack = digest_stack
    mark = last_id(stack, APPROVER)
    leave = submit_leave(stack, "t2001")  # something surely waits for the approver
    stack.start_notifier()
    deadline = time.monotonic() + 300  # first what earlier tests queued: a Rasa turn per row
    while not digest_cards(stack, APPROVER, mark):
        assert time.monotonic() < deadline, f"no digest for {APPROVER}: {sent_to(stack, APPROVER, mark)}"
        time.sleep(0.5)
    [card] = digest_cards(stack, APPROVER, mark)
    title = card["body"]["main_title"]["title"]
    assert re.match(rf"☀️ 早上好,您有 {pending_count(stack, USERNAME)} 项待办,最早的已等待 \d+ (天|小时):$", title)
    assert [b["text"] for b in card["body"]["button_list"]] == ["查看待办", "处理最早的"]
    assert card["body"]["button_list"][0]["key"] == "/list_tasks"

    listed = content_of(click(stack, APPROVER, card, "查看待办"))
    assert "个待办" in listed and leave["number"] in listed

    stack.restart("notifier")  # a restart the same day: the digest is not sent again
    before = sent_before_a_greeting(stack, APPROVER, mark)
    assert len([m for m in before if m["msgtype"] == "template_card" and "早上好" in content_of([m])]) == 1
