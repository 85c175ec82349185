"""Conversations survive a restart of Rasa (the SQL tracker store of bot/endpoints.yml): a form
half answered goes on, the task in view and the notifications already shown are remembered."""
from __future__ import annotations

import secrets

from devtools.stack import Stack

from tests.support.chat import reset, submit_leave, text_of


def notify(stack: Stack, sender: str, outbox_id: str, task_id: int) -> list[dict]:
    """What the backend's notifier does: trigger_intent into the conversation (JWT, no output channel:
    Rasa answers with what the bot said)."""
    status, answer = stack.rasa_api("POST", f"/conversations/{sender}/trigger_intent", {
        "name": "EXTERNAL_notification",
        "entities": {"notification_event": "task_assigned", "outbox_id": outbox_id, "task_id": str(task_id)}})
    assert status == 200, answer
    return answer["messages"]


def slots(stack: Stack, sender: str) -> dict:
    status, tracker = stack.rasa_api("GET", f"/conversations/{sender}/tracker")
    assert status == 200, tracker
    return tracker["slots"]


def test_a_restart_of_rasa_keeps_the_form_the_task_in_view_and_the_notifications_shown(stack):
    applicant = "web:t2001"
    reset(stack, applicant)
    assert "印章类型" in text_of(stack.say(applicant, "我要盖章"))
    assert "文件名称" in text_of(stack.say(applicant, "学校公章"))

    leave = submit_leave(stack, "t2001")
    status, tasks = stack.api("t2101", "GET", "/tasks")
    task = next(t for t in tasks["items"] if t["number"] == leave["number"])
    approver, outbox_id = "web:t2101", str(secrets.randbelow(10**9) + 10**9)  # an id no real row has
    card = text_of(notify(stack, approver, outbox_id, task["id"]))
    assert leave["number"] in card
    before = slots(stack, approver)
    assert before["current_task_id"] == task["id"] and outbox_id in before["notified_outbox_ids"]

    stack.restart("rasa")

    # The form goes on at the question it had asked, with the answers given before the restart.
    assert "份数" in text_of(stack.say(applicant, "2026年合作协议"))
    assert slots(stack, applicant)["form_data"] == {"seal_type": "学校公章", "document_name": "2026年合作协议"}
    after = slots(stack, approver)
    assert after["current_task_id"] == task["id"] and after["notified_outbox_ids"] == before["notified_outbox_ids"]
    assert notify(stack, approver, outbox_id, task["id"]) == []  # shown before the restart: not again
    reset(stack, applicant)
