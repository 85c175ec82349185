"""The 进度 flow diagram: where each box of the inline SVG goes (the template draws it).

Top to bottom, so it reads the same on a phone and a PC: 发起申请 → each process node
(done / current / waiting / returned / terminated, with who holds or held it) → 办结.
"""
from __future__ import annotations

from typing import Any

from ...workflow import transitions as t

WIDTH, BOX_W, BOX_H, GAP = 320, 280, 60, 30
MAX_PEOPLE_TEXT = 18
OPEN = set(t.OPEN_TASK_STATES)


def _people_line(node: dict[str, Any]) -> str:
    if node["state"] == "waiting":
        return ""
    holding = [x["name"] for x in node["tasks"] if x["kind"] == t.APPROVAL and x["status"] in OPEN]
    decided = [x["name"] for x in node["tasks"] if x["kind"] == t.APPROVAL and x["decision"]]
    names, prefix = (holding, "当前处理人:") if holding else (decided, "办理人:")
    text = prefix + "、".join(names) if names else ""
    return text if len(text) <= MAX_PEOPLE_TEXT else text[: MAX_PEOPLE_TEXT - 1] + "…"


def layout(application: dict[str, Any]) -> dict[str, Any]:
    finished = application["status"] == t.APPROVED
    steps = (
        [{"key": "start", "name": "发起申请", "state": "done",
          "people": "申请人:" + application["applicant"]["name"], "testid": "flow-start"}]
        + [{"key": n["key"], "name": n["name"], "state": n["state"], "people": _people_line(n), "testid": "flow-node"}
           for n in application["nodes"]]
        + [{"key": "end", "name": "办结", "state": "done" if finished else "waiting", "people": "",
            "testid": "flow-end"}]
    )
    x = (WIDTH - BOX_W) // 2
    boxes, arrows = [], []
    for index, step in enumerate(steps):
        y = GAP // 2 + index * (BOX_H + GAP)
        boxes.append({**step, "x": x, "y": y, "w": BOX_W, "h": BOX_H})
        if index:
            arrows.append({"x": WIDTH // 2, "y1": y - GAP + 2, "y2": y - 4})
    height = GAP + len(steps) * (BOX_H + GAP) - GAP
    return {"width": WIDTH, "height": height, "boxes": boxes, "arrows": arrows}
