"""An approver's tasks over the stack's API, for the conversation tests of the approver's chat."""
from __future__ import annotations


def tasks(stack, username: str, status: str = "pending") -> list[dict]:
    code, body = stack.api(username, "GET", f"/tasks?status={status}&limit=100")
    assert code == 200, body
    return body["items"]


def clear_pending(stack, username: str) -> None:
    """Earlier tests' tasks decided, so 「全部」 means this test's (those waiting on signers stay)."""
    for task in tasks(stack, username):
        if task["status"] == "pending" and task["kind"] == "approval":
            stack.api(username, "POST", f"/tasks/{task['id']}/approve", {"opinion": "清理"})
        elif task["status"] == "pending":
            stack.api(username, "POST", f"/tasks/{task['id']}/sign", {"opinion": "清理"})
