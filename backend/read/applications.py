"""Applications: the applicant's list (or 抄送我的, the ones copied to the viewer), and one
application with its nodes and flow records (流转记录) for whoever may see it."""
from __future__ import annotations

from typing import Any, Optional

from sqlalchemy import exists, or_, select

from ..db import files
from ..db.models import Application, ApplicationCc, FlowRecord, Matter, Task, User
from ..db.org import OrgDirectory
from ..errors import NotFound
from ..workflow import transitions as t
from ..workflow.forms import attachment_values
from .base import View

ACTION_LABELS = {
    "submit": "提交申请",
    "resubmit": "重新提交",
    "approve": "同意",
    "return": "退回",
    "add_signers": "加签",
    "sign": "加签意见",
    "terminate": "终止流程",
    "withdraw": "撤回",
    "comment": "备注",
    "transfer": "转办",
    "delegate": "委派",
    "delegate_opinion": "委派意见",
    "remind": "催办",
    "cc": "抄送",
    "add_signers_after": "同意并后加签",
    "remove_signers": "减签",
    "skip": "跳过",
}
SYSTEM = {"username": "system", "name": "系统"}  # who a rule's move (a timeout, a skipped node) is shown as


class ApplicationsView(View):
    def _visible(self, viewer: User):
        """Visible: own applications, ones where the viewer holds or held a task, ones copied to them."""
        return or_(
            Application.applicant_id == viewer.id,
            exists().where(Task.application_id == Application.id, Task.assignee_id == viewer.id),
            exists().where(ApplicationCc.application_id == Application.id, ApplicationCc.user_id == viewer.id),
        )

    async def applications(self, viewer: User, status: Optional[str], limit: int, offset: int,
                           cc: bool = False) -> dict[str, Any]:
        """The viewer's own applications, or (``cc``) the ones copied to them, newest first."""
        stmt = (
            select(Application, Matter.code, Matter.name)
            .join(Matter, Matter.id == Application.matter_id)
            .order_by(Application.created_at.desc(), Application.id.desc())
            .limit(limit + 1)
            .offset(offset)
        )
        if cc:
            stmt = stmt.join(ApplicationCc, ApplicationCc.application_id == Application.id).where(
                ApplicationCc.user_id == viewer.id)
        else:
            stmt = stmt.where(Application.applicant_id == viewer.id)
        if status:
            stmt = stmt.where(Application.status == status)
        rows = (await self.session.execute(stmt)).all()
        page = rows[:limit]
        holders = await self._current_holders([a.id for a, _, _ in page])
        items = [
            {**self._head(a, code, name), "current_assignees": holders.get(a.id, [])}
            for a, code, name in page
        ]
        return {"items": items, "has_more": len(rows) > limit, "offset": offset, "limit": limit}

    def _head(self, a: Application, matter_code: str, matter_name: str) -> dict[str, Any]:
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
                .where(Application.id == application_id, self._visible(viewer))
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
        copied = list(await self.session.scalars(
            select(ApplicationCc.user_id).where(ApplicationCc.application_id == a.id).order_by(ApplicationCc.id)))
        people = await org.users_by_id([task.assignee_id for task in tasks] + [r.actor_id for r in records] + copied)
        return {
            **self._head(a, matter.code, matter.name),
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
            "cc": [self.person(people[user_id]) for user_id in copied],
            "attachments": await self._attachments(matter.form_schema, a.form),
        }

    async def _attachments(self, schema: list[dict[str, Any]], form: dict[str, Any]) -> list[dict[str, Any]]:
        """The uploaded files the form names, field by field, each with where it is downloaded."""
        named = attachment_values(schema, form)
        found = await files.described(self.session, [i for ids in named.values() for i in ids])
        return [{"field": key, **found[file_id], "url": f"/api/v1/files/{file_id}"}
                for key, ids in named.items() for file_id in ids if file_id in found]

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
        if r.action in ("sign", "delegate_opinion"):
            label += ":" + ("同意" if r.detail.get("agree") else "不同意")
        elif r.action in ("add_signers_after", "remove_signers"):
            label += ":" + "、".join(r.detail.get("names", []))
        elif r.action in ("transfer", "delegate"):
            label += f"给{r.detail.get('name', '')}"
        elif r.action == "return" and r.detail.get("to_node_name"):
            label = f"退回到「{r.detail['to_node_name']}」"
        if r.detail.get("system"):
            label += "(系统)"
        return {
            "id": r.id, "node": r.node_name, "node_key": r.node_key, "round": r.round,
            "actor": SYSTEM if r.detail.get("system") else self.person(actor), "action": r.action, "action_label": label,
            "opinion": r.opinion, "detail": r.detail, "time": self.time(r.created_at),
        }
