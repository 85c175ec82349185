"""The morning digest end to end: the notifier (`python -m backend notify`, the digest due at
once: DIGEST_TIME=00:00 every day) → Rasa trigger_intent → the wecom channel → the simulator as a
card with 「查看待办」, whose tap lists the approver's tasks, and a restarted notifier sends no
second one; someone without WeCom finds it among their web chat notices."""
from __future__ import annotations

import re
import time
from typing import Any, Iterator

import pytest

from devtools.stack import Stack
from tests.support.chat import submit_leave
from tests.support.wecom import click, content_of, last_id, sent_before_a_greeting, sent_to

APPROVER, APPROVER_USERNAME = "hansongtao", "t2101"  # 韩松涛, head of 音乐系: approves 张伟's leave
WEB_ONLY = "t1702"  # 谢军, no WeCom id: reads notifications in the web chat panel
TITLE = r"☀️ 早上好,您有 {count} 项待办,最早的已等待 \d+ (天|小时):"


@pytest.fixture(scope="module")
def digest_stack(wecom_stack: Stack) -> Iterator[tuple[Stack, int, dict[str, Any]]]:
    """Something waits for 韩松涛 and (handed over by him) for 谢军; then the run's stack's notifier
    starts with today's digest due. Yields the stack, 韩松涛's last message id before, the leave."""
    stack = wecom_stack
    mark = last_id(stack, APPROVER)
    leave = submit_leave(stack, "t2001")
    handed = submit_leave(stack, "t2001")
    status, tasks = stack.api(APPROVER_USERNAME, "GET", "/tasks?status=pending&limit=100")
    assert status == 200, tasks
    task = next(t for t in tasks["items"] if t["number"] == handed["number"])
    status, answer = stack.api(APPROVER_USERNAME, "POST", f"/tasks/{task['id']}/transfer", {"to": WEB_ONLY})
    assert status == 200, answer
    stack.env.update({"DIGEST_TIME": "00:00", "DIGEST_DAYS": "mon-sun"})
    try:
        stack.start_notifier()
        yield stack, mark, leave
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


def eventually(check, what: str, seconds: float = 300):
    """First what earlier tests queued goes out: a Rasa turn per row."""
    deadline = time.monotonic() + seconds
    while not (found := check()):
        assert time.monotonic() < deadline, f"no {what} after {seconds} s"
        time.sleep(0.5)
    return found


def test_the_digest_is_a_card_whose_button_lists_the_tasks_and_comes_once_a_day(digest_stack):
    stack, mark, leave = digest_stack
    [card] = eventually(lambda: digest_cards(stack, APPROVER, mark), f"digest for {APPROVER}")
    title = card["body"]["main_title"]["title"]
    assert re.fullmatch(TITLE.format(count=pending_count(stack, APPROVER_USERNAME)), title), title
    assert [b["text"] for b in card["body"]["button_list"]] == ["查看待办", "处理最早的"]
    assert card["body"]["button_list"][0]["key"] == "/list_tasks"

    listed = content_of(click(stack, APPROVER, card, "查看待办"))
    assert "个待办" in listed and leave["number"] in listed

    stack.restart("notifier")  # a restart the same day: the digest is not sent again
    before = sent_before_a_greeting(stack, APPROVER, mark)
    assert len([m for m in before if m["msgtype"] == "template_card" and "早上好" in content_of([m])]) == 1


def test_someone_without_wecom_gets_it_as_a_web_chat_notice_with_the_button(digest_stack):
    stack = digest_stack[0]

    def digest_notices() -> list[dict[str, Any]]:
        status, answer = stack.api(WEB_ONLY, "GET", "/notifications?limit=100")
        assert status == 200, answer
        return [m for n in answer["items"] for m in n["messages"] if "早上好" in m.get("text", "")]

    [notice] = eventually(digest_notices, f"digest notice for {WEB_ONLY}")
    first_line = notice["text"].splitlines()[0]
    assert re.fullmatch(TITLE.format(count=pending_count(stack, WEB_ONLY)), first_line), first_line
    assert notice["buttons"][0] == {"title": "查看待办", "payload": "/list_tasks"}
