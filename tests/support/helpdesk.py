"""The help desk in the whole stack: its service hours set by restarting the backend, the notifier
running (staff replies, hand-backs and ticket answers reach people through it), and the console's
API as a 服务台 staff member."""
from __future__ import annotations

import sqlite3
import time
from contextlib import contextmanager
from datetime import datetime
from typing import Any, Callable, Iterator
from zoneinfo import ZoneInfo

from devtools.stack import Stack

STAFF = "t1104"  # 何婷, role 服务台 (backend/demo_data/org.yml)
ALWAYS_OPEN = "mon-sun 00:00-24:00"
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def closed_now() -> str:
    """Service hours that exclude this moment: a day other than today in the college's zone."""
    today = datetime.now(ZoneInfo("Asia/Shanghai")).weekday()
    return f"{WEEKDAYS[(today + 3) % 7]} 08:30-17:00"


def set_hours(stack: Stack, hours: str) -> None:
    if stack.env.get("HELPDESK_HOURS") != hours:
        stack.env["HELPDESK_HOURS"] = hours
        stack.restart("backend")


def pending_rows(stack: Stack) -> int:
    with sqlite3.connect(stack.tmp / "bot.db") as db:
        return db.execute("SELECT count(*) FROM outbox WHERE status = 'pending'").fetchone()[0]


@contextmanager
def help_desk(stack: Stack) -> Iterator[Stack]:
    """Open at all hours, the notifier running, once what earlier tests queued went out; afterwards
    the stack's backend as it was."""
    set_hours(stack, ALWAYS_OPEN)
    stack.start_notifier()
    try:
        eventually(lambda: pending_rows(stack) == 0, "the outbox to settle", seconds=300)
        yield stack
    finally:
        stack.stop("notifier")
        stack.env.pop("HELPDESK_HOURS", None)
        stack.restart("backend")


def eventually(check: Callable[[], Any], what: str, seconds: float = 90) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.3)
    raise AssertionError(f"no {what} after {seconds} s")


def console(stack: Stack, method: str, path: str, body: Any = None, expect: int = 200) -> Any:
    status, answer = stack.api(STAFF, method, f"/helpdesk{path}", body)
    assert status == expect, (method, path, answer)
    return answer


def open_conversation_of(stack: Stack, username: str) -> dict[str, Any]:
    found = [c for c in console(stack, "GET", "/conversations")["items"] if c["user"]["username"] == username]
    assert len(found) == 1, found
    return found[0]


def open_ticket_of(stack: Stack, username: str) -> dict[str, Any]:
    found = [t for t in console(stack, "GET", "/tickets?status=open")["items"] if t["user"]["username"] == username]
    assert len(found) == 1, found
    return found[0]


def transcript_texts(stack: Stack, conversation_id: int) -> list[str]:
    return [line["text"] for line in console(stack, "GET", f"/conversations/{conversation_id}")["transcript"]["lines"]]
