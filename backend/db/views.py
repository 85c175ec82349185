"""Read models: what the API shows, straight from the database as plain dicts.

Visibility is enforced here: an applicant sees their own applications, an approver
the tasks assigned to them and the applications they act or acted on. Anything else
is reported as not found, so ids of other people's data leak nothing.
"""
from __future__ import annotations

import re
from datetime import datetime, tzinfo
from typing import Any, Optional

from sqlalchemy import exists, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from ..workflow import transitions as t
from ..workflow.approvers import candidates_for, is_applicant_choice
from ..errors import NotFound
from .models import Application, Department, FlowRecord, Matter, ServiceCenter, Task, User, as_utc
from .org import OrgDirectory
from .runtime import Case, TaskRow

ACTION_LABELS = {
    "submit": "提交申请",
    "resubmit": "重新提交",
    "approve": "同意",
    "return": "退回",
    "add_signers": "加签",
    "sign": "加签意见",
    "terminate": "终止流程",
}
DECISION_LABELS = {"approve": "同意", "return": "退回", "agree": "同意", "disagree": "不同意"}


class Views:
    def __init__(self, session: AsyncSession, tz: tzinfo):
        self.session = session
        self.tz = tz

    def time(self, value: Optional[datetime]) -> Optional[str]:
        return as_utc(value).astimezone(self.tz).isoformat(timespec="seconds") if value else None

    # ------------------------------------------------------------ people

    @staticmethod
    def person(user: User, department: Optional[Department] = None) -> dict[str, Any]:
        shown = {"username": user.username, "name": user.name}
        if department is not None:
            shown["department"] = department.name
        return shown

    async def me(self, user: User) -> dict[str, Any]:
        department = await self.session.get_one(Department, user.department_id)
        roles = (await OrgDirectory(self.session).roles_of([user.id]))[user.id]
        return {
            "id": user.id, **self.person(user, department), "department_code": department.code,
            "kind": user.kind, "roles": roles, "wecom_userid": user.wecom_userid,
        }

    async def departments_tree(self, college: str) -> dict[str, Any]:
        departments = list((await OrgDirectory(self.session).departments()).values())
        nodes = {d.id: {"id": d.id, "code": d.code, "name": d.name, "kind": d.kind, "children": []}
                 for d in departments}
        roots = []
        for d in departments:
            (nodes[d.parent_id]["children"] if d.parent_id else roots).append(nodes[d.id])
        return {"name": college, "children": roots}

    async def search_users(self, q: str, department_code: Optional[str], limit: int) -> list[dict[str, Any]]:
        org = OrgDirectory(self.session)
        department_id = None
        if department_code:
            department = await org.department_by_code(department_code)
            if department is None:
                raise NotFound("department_not_found", f"没有找到部门 {department_code}")
            department_id = department.id
        users = await org.search_users(q, department_id, limit)
        departments = await org.departments()
        roles = await org.roles_of(u.id for u in users)
        return [
            {**self.person(u, departments[u.department_id]),
             "department_code": departments[u.department_id].code, "roles": roles[u.id]}
            for u in users
        ]

    # ------------------------------------------------------------ catalog

    @staticmethod
    def matter_summary(matter: Matter) -> dict[str, Any]:
        return {"code": matter.code, "name": matter.name, "description": matter.description}

    async def centers(self) -> list[dict[str, Any]]:
        centers = list(await self.session.scalars(select(ServiceCenter).order_by(ServiceCenter.sort)))
        matters = list(
            await self.session.scalars(select(Matter).where(Matter.active.is_(True)).order_by(Matter.sort))
        )
        return [
            {"code": c.code, "name": c.name, "description": c.description,
             "matters": [self.matter_summary(m) for m in matters if m.center_id == c.id]}
            for c in centers
        ]

    async def search_matters(self, q: str) -> list[dict[str, Any]]:
        """Rank matters for a query that may be a whole Chinese sentence without spaces
        (「我想借音乐厅排练」): a matter's name, keywords and choice options found inside
        the query count, and so do query words found inside the matter's text."""
        matters = list(
            await self.session.scalars(select(Matter).where(Matter.active.is_(True)).order_by(Matter.id))
        )
        words = [w for w in re.split(r"[\s,,。、;;!!??]+", q) if w]
        ranked = []
        for m in matters:
            text = " ".join([m.name, m.description, *m.keywords])
            options = [o for f in m.form_schema if f["type"] in ("choice", "multichoice") for o in f["options"]]
            score = (
                (5 if m.name in q else 0)
                + sum(3 for k in m.keywords if k and k in q)
                + sum(1 for o in options if len(o) >= 2 and o in q)
                + sum((3 if w in m.name else 0) + (2 if w in m.keywords else 0) + (1 if w in text else 0)
                      for w in words)
            )
            if score > 0 or not words:
                ranked.append((score, m))
        ranked.sort(key=lambda pair: -pair[0])
        return [{**self.matter_summary(m), "score": score} for score, m in ranked]

    async def matter(self, code: str, viewer: User) -> dict[str, Any]:
        matter = await self.session.scalar(select(Matter).where(Matter.code == code, Matter.active.is_(True)))
        if matter is None:
            raise NotFound("matter_not_found", f"没有找到事项 {code}")
        center = await self.session.get_one(ServiceCenter, matter.center_id)
        org = OrgDirectory(self.session)
        departments = await org.departments()
        nodes = []
        for index, node in enumerate(matter.process):
            shown = {"index": index, "key": node["key"], "name": node["name"], "mode": node["mode"],
                     "choose_approver": is_applicant_choice(node)}
            if is_applicant_choice(node):
                people = await candidates_for(node["approvers"], viewer, org)
                shown["candidates"] = [self.person(p, departments[p.department_id]) for p in people]
            nodes.append(shown)
        return {**self.matter_summary(matter), "center": {"code": center.code, "name": center.name},
                "keywords": matter.keywords, "form": matter.form_schema, "nodes": nodes}

    # ------------------------------------------------------------ applications

    def _application_filter(self, viewer: User):
        """Visible: own applications, or ones where the viewer holds or held a task."""
        return or_(
            Application.applicant_id == viewer.id,
            exists().where(Task.application_id == Application.id, Task.assignee_id == viewer.id),
        )

    async def applications(self, viewer: User, status: Optional[str], limit: int, offset: int) -> dict[str, Any]:
        stmt = (
            select(Application, Matter.code, Matter.name)
            .join(Matter, Matter.id == Application.matter_id)
            .where(Application.applicant_id == viewer.id)
            .order_by(Application.created_at.desc(), Application.id.desc())
            .limit(limit + 1)
            .offset(offset)
        )
        if status:
            stmt = stmt.where(Application.status == status)
        rows = (await self.session.execute(stmt)).all()
        page = rows[:limit]
        holders = await self._current_holders([a.id for a, _, _ in page])
        items = [
            {**self._application_head(a, code, name), "current_assignees": holders.get(a.id, [])}
            for a, code, name in page
        ]
        return {"items": items, "has_more": len(rows) > limit, "offset": offset, "limit": limit}

    def _application_head(self, a: Application, matter_code: str, matter_name: str) -> dict[str, Any]:
        node = a.process[a.current_node] if a.current_node is not None else None
        return {
            "id": a.id, "number": a.number, "matter": {"code": matter_code, "name": matter_name},
            "status": a.status, "status_label": t.STATUS_LABELS[a.status],
            "current_node": {"index": a.current_node, "key": node["key"], "name": node["name"]} if node else None,
            "created_at": self.time(a.created_at), "updated_at": self.time(a.updated_at),
            "finished_at": self.time(a.finished_at),
        }

    async def _current_holders(self, application_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
        if not application_ids:
            return {}
        rows = await self.session.execute(
            select(Task.application_id, User.username, User.name)
            .join(User, User.id == Task.assignee_id)
            .where(Task.application_id.in_(application_ids), Task.status.in_(t.OPEN_TASK_STATES))
            .order_by(Task.id)
        )
        holders: dict[int, list[dict[str, Any]]] = {}
        for application_id, username, name in rows:
            holders.setdefault(application_id, []).append({"username": username, "name": name})
        return holders

    async def application(self, viewer: User, application_id: int) -> dict[str, Any]:
        row = (
            await self.session.execute(
                select(Application, Matter)
                .join(Matter, Matter.id == Application.matter_id)
                .where(Application.id == application_id, self._application_filter(viewer))
            )
        ).first()
        if row is None:
            raise NotFound("application_not_found", f"没有找到申请 {application_id}")
        a, matter = row
        org = OrgDirectory(self.session)
        departments = await org.departments()
        applicant = await self.session.get_one(User, a.applicant_id)
        tasks = list(await self.session.scalars(
            select(Task).where(Task.application_id == a.id).order_by(Task.id)
        ))
        records = list(await self.session.scalars(
            select(FlowRecord).where(FlowRecord.application_id == a.id).order_by(FlowRecord.id)
        ))
        people = await org.users_by_id([task.assignee_id for task in tasks] + [r.actor_id for r in records])
        return {
            **self._application_head(a, matter.code, matter.name),
            "applicant": self.person(applicant, departments[applicant.department_id]),
            "round": a.round,
            "form": a.form,
            "form_schema": matter.form_schema,
            "approvers": a.chosen_approvers,
            "current_assignees": [
                self.person(people[x.assignee_id]) for x in tasks if x.status in t.OPEN_TASK_STATES
            ],
            "nodes": self._nodes(a, [x for x in tasks if x.round == a.round], people),
            "records": [self._record(r, people[r.actor_id]) for r in records],
        }

    def _nodes(self, a: Application, tasks: list[Task], people: dict[int, User]) -> list[dict[str, Any]]:
        if a.status == t.APPROVED:
            stop = len(a.process)
        elif a.current_node is not None:
            stop = a.current_node
        else:  # returned / terminated: the node where it stopped
            stop = max((x.node_index for x in tasks), default=-1)
        nodes = []
        for index, node in enumerate(a.process):
            if index < stop:
                state = "done"
            elif index == stop:
                state = {t.RUNNING: "current", t.RETURNED: "returned", t.TERMINATED: "terminated"}[a.status]
            else:
                state = "waiting"
            nodes.append({
                "index": index, "key": node["key"], "name": node["name"], "mode": node["mode"], "state": state,
                "tasks": [
                    {**self.person(people[x.assignee_id]), "task_id": x.id, "kind": x.kind, "status": x.status,
                     "decision": x.decision, "decided_at": self.time(x.decided_at)}
                    for x in tasks if x.node_index == index
                ],
            })
        return nodes

    def _record(self, r: FlowRecord, actor: User) -> dict[str, Any]:
        label = ACTION_LABELS.get(r.action, r.action)
        if r.action == "sign":
            label = "加签意见:" + ("同意" if r.detail.get("agree") else "不同意")
        return {
            "id": r.id, "node": r.node_name, "node_key": r.node_key, "round": r.round,
            "actor": self.person(actor), "action": r.action, "action_label": label,
            "opinion": r.opinion, "detail": r.detail, "time": self.time(r.created_at),
        }

    # ------------------------------------------------------------ tasks

    def _task_rows(self, viewer: User):
        applicant = _APPLICANT
        return (
            select(Task, Application, Matter.code, Matter.name, applicant, Department)
            .join(Application, Application.id == Task.application_id)
            .join(Matter, Matter.id == Application.matter_id)
            .join(applicant, applicant.id == Application.applicant_id)
            .join(Department, Department.id == applicant.department_id)
            .where(Task.assignee_id == viewer.id)
        )

    async def tasks(self, viewer: User, status: str, limit: int, offset: int) -> dict[str, Any]:
        states = list(t.OPEN_TASK_STATES) if status == "pending" else [t.DONE]
        # First the page of ids straight from the (assignee, status, created) index — one
        # ordered scan per status, merged here, since IN (…) defeats the index order —
        # then the joins for those rows only: planners otherwise start from the small tables.
        wanted = offset + limit + 1
        candidates: list[tuple[Any, int]] = []
        for state in states:
            candidates += (await self.session.execute(
                select(Task.created_at, Task.id)
                .where(Task.assignee_id == viewer.id, Task.status == state)
                .order_by(Task.created_at.desc(), Task.id.desc())
                .limit(wanted)
            )).all()
        candidates.sort(reverse=True)
        ids = [task_id for _, task_id in candidates[offset:wanted]]
        page = ids[:limit]
        rows = (await self.session.execute(self._task_rows(viewer).where(Task.id.in_(page)))).all() if page else []
        by_id = {row[0].id: row for row in rows}
        items = []
        for task_id in page:
            task, a, code, name, who, department = by_id[task_id]
            items.append(self._task_head(task, a, code, name, self.person(who, department)))
        return {"items": items, "has_more": len(ids) > limit, "offset": offset, "limit": limit}

    def _task_head(self, task: Task, a: Application, code: str, name: str, applicant: dict[str, Any]) -> dict[str, Any]:
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
        row = (await self.session.execute(self._task_rows(viewer).where(Task.id == task_id))).first()
        if row is None:
            raise NotFound("task_not_found", f"没有找到您的任务 {task_id}")
        task, application, code, name, who, department = row
        head = self._task_head(task, application, code, name, self.person(who, department))
        signers = (await self.session.execute(
            select(Task, User).join(User, User.id == Task.assignee_id)
            .where(Task.parent_task_id == task.id).order_by(Task.id)
        )).all()
        return self._summary(head, task, application, signers)

    def decided_task(self, case: Case, task: TaskRow) -> dict[str, Any]:
        """The answer to a decision, from the rows the command holds: the same as
        ``task_summary`` read after the commit, without reading anything back."""
        applicant = {**self.person(case.applicant), "department": case.applicant.department_name}
        head = self._task_head(task, case.application, case.matter_code, case.matter_name, applicant)
        signers = [(s, s.assignee) for s in case.tasks if s.parent_task_id == task.id]
        return self._summary(head, task, case.application, signers)

    def _summary(self, head: dict[str, Any], task: Any, application: Any, signers: Any) -> dict[str, Any]:
        """``head`` plus the signers (tasks with their assignees), the viewer's next moves
        and where the application stands; rows may be ORM objects or runtime rows."""
        head["signers"] = [
            {**self.person(person), "task_id": s.id, "status": s.status, "decision": s.decision,
             "opinion": s.opinion} for s, person in signers
        ]
        head["actions"] = self._allowed_moves(task, application.status)
        node = application.process[application.current_node] if application.current_node is not None else None
        head["application_current_node"] = {"key": node["key"], "name": node["name"]} if node else None
        return head

    async def task(self, viewer: User, task_id: int) -> dict[str, Any]:
        summary = await self.task_summary(viewer, task_id)
        return {**summary, "application": await self.application(viewer, summary["application_id"])}

    @staticmethod
    def _allowed_moves(task: Task, application_status: str) -> list[str]:
        if application_status != t.RUNNING:
            return []
        return sorted({move for (kind, state, move) in t.TASK_TRANSITIONS
                       if kind == task.kind and state == task.status and move in PUBLIC_MOVES})


_APPLICANT = aliased(User, name="applicant")  # built once: aliasing per request is costly
PUBLIC_MOVES = {"approve", "return", "add_signers", "sign"}
