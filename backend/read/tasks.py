"""Tasks: the assignee's 待办 / 已办 list, one task with its signers and the moves it allows,
and the answer to a decision built from the rows the command holds."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Any, Optional

from sqlalchemy import select
from sqlalchemy.orm import aliased

from ..db.models import Application, Department, Matter, Task, User
from ..db.rows import Case, TaskRow
from ..errors import NotFound
from ..workflow import transitions as t
from .applications import ApplicationsView
from .base import View

DECISION_LABELS = {"approve": "同意", "return": "退回", "agree": "同意", "disagree": "不同意", "transfer": "转办"}
PUBLIC_MOVES = {"approve", "return", "add_signers", "sign", "transfer", "delegate"}
_APPLICANT = aliased(User, name="applicant")  # built once: aliasing per request is costly
DECISIONS = ("approve", "return", "transfer", "agree", "disagree")  # what a done task may record


@dataclass(frozen=True)
class TaskFilter:
    """Narrows a 待办 / 已办 list: the matters (codes; any of them), and for 已办 what was decided and
    on which days (inclusive, in the college's timezone)."""

    matters: tuple[str, ...] = ()
    decisions: tuple[str, ...] = ()
    decided_from: Optional[date] = None
    decided_to: Optional[date] = None


class TasksView(View):
    def _rows(self, viewer: User):
        applicant = _APPLICANT
        return (
            select(Task, Application, Matter.code, Matter.name, applicant, Department)
            .join(Application, Application.id == Task.application_id)
            .join(Matter, Matter.id == Application.matter_id)
            .join(applicant, applicant.id == Application.applicant_id)
            .join(Department, Department.id == applicant.department_id)
            .where(Task.assignee_id == viewer.id)
        )

    def _narrowed(self, query, where: TaskFilter):
        if where.matters:
            query = (query.join(Application, Application.id == Task.application_id)
                     .join(Matter, Matter.id == Application.matter_id).where(Matter.code.in_(where.matters)))
        if where.decisions:
            query = query.where(Task.decision.in_(where.decisions))
        if where.decided_from:
            query = query.where(Task.decided_at >= self._midnight(where.decided_from))
        if where.decided_to:
            query = query.where(Task.decided_at < self._midnight(where.decided_to + timedelta(days=1)))
        return query

    def _midnight(self, day: date) -> datetime:
        """The start of ``day`` in the college's timezone, in UTC as times are stored."""
        return datetime.combine(day, time(), tzinfo=self.tz).astimezone(timezone.utc)

    async def tasks(self, viewer: User, status: str, limit: int, offset: int,
                    where: TaskFilter = TaskFilter()) -> dict[str, Any]:
        states = list(t.OPEN_TASK_STATES) if status == "pending" else [t.DONE]
        # First the page of ids straight from the (assignee, status, created) index — one
        # ordered scan per status, merged here, since IN (…) defeats the index order —
        # then the joins for those rows only: planners otherwise start from the small tables.
        wanted = offset + limit + 1
        candidates: list[tuple[Any, int]] = []
        for state in states:
            candidates += (await self.session.execute(
                self._narrowed(select(Task.created_at, Task.id), where)
                .where(Task.assignee_id == viewer.id, Task.status == state)
                .order_by(Task.created_at.desc(), Task.id.desc())
                .limit(wanted)
            )).all()
        candidates.sort(reverse=True)
        ids = [task_id for _, task_id in candidates[offset:wanted]]
        page = ids[:limit]
        rows = (await self.session.execute(self._rows(viewer).where(Task.id.in_(page)))).all() if page else []
        by_id = {row[0].id: row for row in rows}
        items = []
        for task_id in page:
            task, a, code, name, who, department = by_id[task_id]
            items.append(self._head(task, a, code, name, self.person(who, department)))
        return {"items": items, "has_more": len(ids) > limit, "offset": offset, "limit": limit}

    def _head(self, task: Task, a: Application, code: str, name: str, applicant: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": task.id, "application_id": a.id, "number": a.number,
            "matter": {"code": code, "name": name}, "applicant": applicant,
            "node": {"index": task.node_index, "key": task.node_key, "name": a.process[task.node_index]["name"]},
            "kind": task.kind, "status": task.status, "status_label": t.STATUS_LABELS[task.status],
            "decision": task.decision, "decision_label": DECISION_LABELS.get(task.decision or ""),
            "opinion": task.opinion, "created_at": self.time(task.created_at),
            "decided_at": self.time(task.decided_at), "application_status": a.status,
        }

    async def task_summary(self, viewer: User, task_id: int) -> dict[str, Any]:
        """A task with its signers and what the viewer may do next."""
        row = (await self.session.execute(self._rows(viewer).where(Task.id == task_id))).first()
        if row is None:
            raise NotFound("task_not_found", f"没有找到您的任务 {task_id}")
        task, application, code, name, who, department = row
        head = self._head(task, application, code, name, self.person(who, department))
        signers = (await self.session.execute(
            select(Task, User).join(User, User.id == Task.assignee_id)
            .where(Task.parent_task_id == task.id).order_by(Task.id)
        )).all()
        return self._summary(head, task, application, signers)

    def decided_task(self, case: Case, task: TaskRow) -> dict[str, Any]:
        """The answer to a decision, from the rows the command holds: the same as
        ``task_summary`` read after the commit, without reading anything back."""
        applicant = {**self.person(case.applicant), "department": case.applicant.department_name}
        head = self._head(task, case.application, case.matter_code, case.matter_name, applicant)
        signers = [(s, s.assignee) for s in case.tasks if s.parent_task_id == task.id]
        return self._summary(head, task, case.application, signers)

    def _summary(self, head: dict[str, Any], task: Any, application: Any, signers: Any) -> dict[str, Any]:
        """``head`` plus the signers (tasks with their assignees), the viewer's next moves
        and where the application stands; rows may be ORM objects or the workflow's rows."""
        head["signers"] = [
            {**self.person(person), "task_id": s.id, "kind": s.kind, "status": s.status, "decision": s.decision,
             "opinion": s.opinion} for s, person in signers
        ]
        head["actions"] = self._allowed_moves(task, application.status)
        # 减签: the signers this task added who have not decided yet
        head["removable_signers"] = [s["username"] for s in head["signers"] if s["status"] in t.OPEN_TASK_STATES
                                     and s["kind"] != t.DELEGATE] if application.status == t.RUNNING else []
        # 退回 may go to any node the application has passed on its way here
        head["return_nodes"] = [{"key": n["key"], "name": n["name"]} for n in application.process[:task.node_index]
                                ] if "return" in head["actions"] else []
        node = application.process[application.current_node] if application.current_node is not None else None
        head["application_current_node"] = {"key": node["key"], "name": node["name"]} if node else None
        return head

    async def task(self, viewer: User, task_id: int) -> dict[str, Any]:
        summary = await self.task_summary(viewer, task_id)
        application = await ApplicationsView(self.session, self.tz).application(viewer, summary["application_id"])
        return {**summary, "application": application}

    @staticmethod
    def _allowed_moves(task: Task, application_status: str) -> list[str]:
        if application_status != t.RUNNING:
            return []
        return sorted({move for (kind, state, move) in t.TASK_TRANSITIONS
                       if kind == task.kind and state == task.status and move in PUBLIC_MOVES})
