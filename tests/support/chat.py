"""Talking to the whole stack (devtools/stack.py) as a person would, and setting the scene over
its API: replies' text and buttons, a fresh conversation, applications submitted directly."""
from __future__ import annotations

from typing import Any

from .dates import days_ahead, tomorrow


def text_of(replies: list[dict[str, Any]]) -> str:
    return "\n".join(r.get("text", "") for r in replies)


def buttons_of(replies: list[dict[str, Any]]) -> list[str]:
    return [b["title"] for r in replies for b in r.get("buttons", [])]


def reset(stack, sender: str) -> None:
    """A conversation started afresh (no form or question left over from an earlier test)."""
    stack.say(sender, "/restart")


def submit_seal(stack, username: str, leader: str) -> dict:
    status, body = stack.api(username, "POST", "/applications", {
        "matter": "seal_usage", "approvers": {"leader": leader},
        "form": {"seal_type": "学校公章", "document_name": "演出合同", "copies": 1, "use_date": tomorrow(),
                 "purpose": "演出合作", "document": "合同.pdf"}})
    assert status == 201, body
    return body


def submit_leave(stack, username: str) -> dict:
    day = days_ahead(2)
    status, body = stack.api(username, "POST", "/applications", {
        "matter": "staff_leave", "form": {"leave_type": "事假", "start_time": day.strftime("%Y-%m-%d 08:30"),
                                          "end_time": day.strftime("%Y-%m-%d 17:30"), "days": 1,
                                          "reason": "家中有事需要处理"}})
    assert status == 201, body
    return body
