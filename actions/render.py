"""How tasks, applications and progress read in a chat message."""
from __future__ import annotations

import json
from typing import Any


def shown(value: Any) -> str:
    """A form value (or anything a person typed) as one line: lists joined with 、, line
    breaks as spaces — a line of its own could pass for a line the bot wrote (a card field)."""
    if value is None:
        return "(未填)"
    if isinstance(value, list):
        return "、".join(map(shown, value))
    return " ".join(part.strip() for part in str(value).splitlines() if part.strip())


def payload(intent: str, **entities: Any) -> str:
    """A button payload that names the intent and its entities: /approve{"task_id": "12"}."""
    return f"/{intent}" + (json.dumps({k: str(v) for k, v in entities.items()}, ensure_ascii=False) if entities else "")


def short_time(iso: str | None) -> str:
    return iso[5:16].replace("T", " ") if iso else ""


def task_line(position: int, task: dict[str, Any]) -> str:
    kind = "(加签)" if task.get("kind") == "signer" else ""
    applicant = task["applicant"]
    return (f"{position}. 【{task['matter']['name']}】{kind}{applicant['name']}"
            f"({applicant.get('department', '')})· {short_time(task['created_at'])} 提交 · {task['number']}")


def done_task_line(position: int, task: dict[str, Any]) -> str:
    """A task the user decided: what they did, when, and their opinion."""
    kind = "(加签)" if task.get("kind") == "signer" else "(委派)" if task.get("kind") == "delegate" else ""
    said = f":{shown(task['opinion'])}" if task.get("opinion") else ""
    return (f"{position}. 【{task['matter']['name']}】{kind}{task['applicant']['name']} · {task['number']} · "
            f"{short_time(task.get('decided_at'))} {task.get('decision_label') or '已办'}{said}")


def application_line(position: int, application: dict[str, Any]) -> str:
    node = application.get("current_node")
    where = f" · 当前:{node['name']}" if node else ""
    holders = "、".join(p["name"] for p in application.get("current_assignees") or [])
    who = f"({holders})" if holders else ""
    return (f"{position}. 【{application['matter']['name']}】{application['number']} · "
            f"{application['status_label']}{where}{who} · {short_time(application['created_at'])}")


def application_progress(application: dict[str, Any], records_only: bool = False) -> str:
    lines = []
    if not records_only:
        lines.append(f"【{application['matter']['name']}】{application['number']}:{application['status_label']}")
        marks = {"done": "✅", "current": "⏳", "waiting": "○", "returned": "↩", "terminated": "✖"}
        for node in application["nodes"]:
            holders = "、".join(t["name"] for t in node["tasks"] if t["status"] in ("pending", "waiting"))
            extra = f"({holders}办理中)" if node["state"] == "current" and holders else ""
            lines.append(f"{marks.get(node['state'], '·')} {node['name']}{extra}")
    lines.append("流转记录:")
    for record in application["records"][-8:]:
        opinion = f":{shown(record['opinion'])}" if record.get("opinion") else ""
        lines.append(f"  {short_time(record['time'])} {record['node']} · {record['actor']['name']} "
                     f"{record['action_label']}{opinion}")
    return "\n".join(lines)
