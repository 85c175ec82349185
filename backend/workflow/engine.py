"""The workflow engine: submit, approve, return (退回), add signers (加签), sign,
terminate (终止), resubmit — plain Python over one SQLAlchemy session.

Each command runs inside the caller's unit of work (``Database.write()``): the state
change, its flow record and its outbox notifications commit together or not at all.
Commands lock the application row first, so two decisions on the same application are
serialized and the second one sees the first one's result (→ 409, never a second
transition).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any, Callable, Iterable, Optional

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from ..db.models import (
    Application,
    DailyCounter,
    FlowRecord,
    Matter,
    OutboxMessage,
    Task,
    User,
    utcnow,
)
from ..db.org import OrgDirectory
from . import transitions as t
from .approvers import approvers_for_node, check_choices
from .errors import Forbidden, InvalidInput, NotFound
from .forms import person_values, validate_form

NUMBER_PREFIX = "SW"
MAX_OPINION = 2000
MAX_SIGNERS = 10
MAX_TERMINATE = 100


@dataclass(frozen=True)
class Decision:
    """What a command did, for the caller to report back."""

    application: Application
    task: Optional[Task] = None


def _opinion(text: Any, *, required: bool) -> str:
    if text is None:
        text = ""
    if not isinstance(text, str):
        raise InvalidInput("opinion_invalid", "意见应为文字")
    text = text.strip()
    if required and not text:
        raise InvalidInput("opinion_required", "请填写意见")
    if len(text) > MAX_OPINION:
        raise InvalidInput("opinion_too_long", f"意见不能超过 {MAX_OPINION} 个字")
    return text


class Workflow:
    def __init__(self, tz: tzinfo, now: Callable[[], datetime] = utcnow):
        self.tz = tz
        self.now = now

    # ------------------------------------------------------------ commands

    async def submit(
        self, session: AsyncSession, actor: User, matter_code: Any, form: Any, approvers: Any
    ) -> Application:
        if not isinstance(matter_code, str) or not matter_code:
            raise InvalidInput("matter_required", "请指定要办理的事项(matter)")
        matter = await session.scalar(
            select(Matter).where(Matter.code == matter_code, Matter.active.is_(True))
        )
        if matter is None:
            raise NotFound("matter_not_found", f"没有找到事项 {matter_code}")
        org = OrgDirectory(session)
        cleaned = await self._validate(matter.form_schema, form, org)
        chosen = await check_choices(matter.process, actor, approvers, org)
        now = self.now()
        application = Application(
            number=await self._next_number(session, now),
            matter_id=matter.id,
            applicant_id=actor.id,
            form=cleaned,
            process=matter.process,
            chosen_approvers=chosen,
            status=t.RUNNING,
            round=1,
            created_at=now,
            updated_at=now,
        )
        session.add(application)
        await session.flush()
        self._record(session, application, actor, "submit", node=None)
        await self._start_node(session, application, 0, org, matter_name=matter.name)
        return application

    async def resubmit(
        self, session: AsyncSession, actor: User, application_id: int, form: Any, approvers: Any
    ) -> Application:
        application = await self._lock_own_application(session, actor, application_id)
        application.status = t.application_after(application.status, "resubmit")
        matter = await session.get_one(Matter, application.matter_id)
        org = OrgDirectory(session)
        if form is not None:
            application.form = await self._validate(matter.form_schema, form, org)
        if approvers is not None:
            application.chosen_approvers = await check_choices(
                application.process, actor, approvers, org
            )
        application.round += 1
        application.updated_at = self.now()
        self._record(session, application, actor, "resubmit", node=None)
        await self._start_node(session, application, 0, org, matter_name=matter.name)
        return application

    async def approve(self, session: AsyncSession, actor: User, task_id: int, opinion: Any) -> Decision:
        text = _opinion(opinion, required=False)
        task, application = await self._lock_own_task(session, actor, task_id)
        self._move_task(task, "approve", decision="approve", opinion=text)
        node = application.process[task.node_index]
        self._record(session, application, actor, "approve", node=node, task=task, opinion=text)
        siblings = await self._node_tasks(session, application, task.node_index)
        if node.get("mode", "any") == "all":
            complete = all(
                s.status == t.DONE for s in siblings if s.kind == t.APPROVAL and s.status != t.CANCELLED
            )
        else:
            complete = True
        if complete:
            self._cancel(s for s in siblings if s.status in t.OPEN_TASK_STATES)
            await self._start_node(
                session, application, task.node_index + 1, OrgDirectory(session), previous=node
            )
        return Decision(application, task)

    async def return_(self, session: AsyncSession, actor: User, task_id: int, opinion: Any) -> Decision:
        text = _opinion(opinion, required=True)
        task, application = await self._lock_own_task(session, actor, task_id)
        self._move_task(task, "return", decision="return", opinion=text)
        application.status = t.application_after(application.status, "return")
        application.current_node = None
        application.updated_at = self.now()
        await self._cancel_open_tasks(session, application)
        node = application.process[task.node_index]
        self._record(session, application, actor, "return", node=node, task=task, opinion=text)
        self._notify(
            session, "application_returned", application.applicant_id, application,
            task=task, opinion=text, node_name=node["name"], actor_name=actor.name,
        )
        return Decision(application, task)

    async def add_signers(
        self, session: AsyncSession, actor: User, task_id: int, usernames: Any, opinion: Any
    ) -> Decision:
        text = _opinion(opinion, required=False)
        if (
            not isinstance(usernames, list)
            or not usernames
            or not all(isinstance(u, str) and u for u in usernames)
        ):
            raise InvalidInput("signers_required", "请选择至少一位加签人员(users)")
        usernames = list(dict.fromkeys(usernames))
        if len(usernames) > MAX_SIGNERS:
            raise InvalidInput("too_many_signers", f"一次最多加签 {MAX_SIGNERS} 人")
        task, application = await self._lock_own_task(session, actor, task_id)
        if task.kind == t.SIGNER:
            raise InvalidInput("nested_signers", "加签人员不能再加签")
        org = OrgDirectory(session)
        found = await org.users_by_username(usernames)
        missing = [u for u in usernames if u not in found]
        if missing:
            raise InvalidInput("user_not_found", f"没有找到用户 {missing[0]}")
        signers = [found[u] for u in usernames]
        for signer in signers:
            if signer.id == application.applicant_id:
                raise InvalidInput("signer_is_applicant", "不能加签给申请人本人")
            if signer.id == actor.id:
                raise InvalidInput("signer_is_self", "不能加签给自己")
        self._move_task(task, "add_signers", decision=None, opinion=None)
        node = application.process[task.node_index]
        names = [s.name for s in signers]
        self._record(
            session, application, actor, "add_signers", node=node, task=task, opinion=text,
            detail={"signers": [s.username for s in signers], "names": names},
        )
        now = self.now()
        for signer in signers:
            signer_task = self._new_task(
                session, application, task.node_index, node, signer, kind=t.SIGNER, now=now,
                parent=task,
            )
            await session.flush()
            self._notify(
                session, "signer_requested", signer.id, application, task=signer_task,
                opinion=text, node_name=node["name"], actor_name=actor.name,
            )
        self._notify(
            session, "application_signers_added", application.applicant_id, application,
            node_name=node["name"], actor_name=actor.name, signers=names,
        )
        return Decision(application, task)

    async def sign(
        self, session: AsyncSession, actor: User, task_id: int, opinion: Any, agree: Any
    ) -> Decision:
        text = _opinion(opinion, required=True)
        if not isinstance(agree, bool):
            raise InvalidInput("agree_required", "请说明是否同意(agree: true/false)")
        task, application = await self._lock_own_task(session, actor, task_id)
        self._move_task(task, "sign", decision="agree" if agree else "disagree", opinion=text)
        node = application.process[task.node_index]
        self._record(
            session, application, actor, "sign", node=node, task=task, opinion=text,
            detail={"agree": agree},
        )
        parent = await session.scalar(
            select(Task).where(Task.id == task.parent_task_id).execution_options(populate_existing=True)
        )
        siblings = await session.scalars(
            select(Task).where(Task.parent_task_id == parent.id, Task.status.in_(t.OPEN_TASK_STATES))
        )
        if not list(siblings) and parent.status == t.WAITING:
            parent.status = t.task_after(parent.kind, parent.status, "signers_done")
            self._notify(
                session, "signer_opinions_ready", parent.assignee_id, application, task=parent,
                node_name=node["name"],
            )
        return Decision(application, task)

    async def terminate(
        self, session: AsyncSession, actor: User, ids: Any, reason: Any
    ) -> list[Application]:
        text = _opinion(reason, required=False)
        if (
            not isinstance(ids, list)
            or not ids
            or not all(isinstance(i, int) and not isinstance(i, bool) for i in ids)
        ):
            raise InvalidInput("ids_required", "请指定要终止的申请(ids)")
        if len(ids) > MAX_TERMINATE:
            raise InvalidInput("too_many_ids", f"一次最多终止 {MAX_TERMINATE} 个申请")
        finished = []
        for application_id in sorted(set(ids)):  # a fixed lock order avoids deadlocks
            application = await self._lock_own_application(session, actor, application_id)
            application.status = t.application_after(application.status, "terminate")
            application.current_node = None
            application.finished_at = application.updated_at = self.now()
            cancelled = await self._cancel_open_tasks(session, application)
            self._record(session, application, actor, "terminate", node=None, opinion=text)
            for assignee_id in {task.assignee_id for task in cancelled}:
                self._notify(session, "application_terminated", assignee_id, application, opinion=text)
            finished.append(application)
        return finished

    # ------------------------------------------------------------ helpers

    async def _validate(self, schema: list[dict[str, Any]], form: Any, org: OrgDirectory) -> dict[str, Any]:
        today = self.now().astimezone(self.tz).date()
        cleaned = validate_form(schema, form, today)
        people = person_values(schema, cleaned)
        found = await org.users_by_username(people.values())
        bad = {key: "没有找到该人员" for key, username in people.items() if username not in found}
        if bad:
            raise InvalidInput("form_invalid", "表单填写有误:没有找到所填的人员", {"fields": bad})
        return cleaned

    async def _next_number(self, session: AsyncSession, now: datetime) -> str:
        day = now.astimezone(self.tz).strftime("%Y%m%d")
        insert = pg_insert if session.bind.dialect.name == "postgresql" else sqlite_insert
        stmt = (
            insert(DailyCounter)
            .values(day=day, last=1)
            .on_conflict_do_update(index_elements=["day"], set_={"last": DailyCounter.last + 1})
            .returning(DailyCounter.last)
        )
        seq = (await session.execute(stmt)).scalar_one()
        return f"{NUMBER_PREFIX}{day}-{seq:04d}"

    async def _lock_application(self, session: AsyncSession, application_id: int) -> Optional[Application]:
        return await session.scalar(
            select(Application)
            .where(Application.id == application_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )

    async def _lock_own_application(self, session: AsyncSession, actor: User, application_id: int) -> Application:
        application = await self._lock_application(session, application_id)
        if application is None:
            raise NotFound("application_not_found", f"没有找到申请 {application_id}")
        if application.applicant_id != actor.id:
            raise Forbidden("not_applicant", "只有申请人本人可以执行该操作")
        return application

    async def _lock_own_task(self, session: AsyncSession, actor: User, task_id: int) -> tuple[Task, Application]:
        application = await session.scalar(
            select(Application)
            .join(Task, Task.application_id == Application.id)
            .where(Task.id == task_id, Task.assignee_id == actor.id)
            .with_for_update(of=Application)
            .execution_options(populate_existing=True)
        )
        if application is None:  # not found and not yours look the same: no leak
            raise NotFound("task_not_found", f"没有找到您的任务 {task_id}")
        # Read the task after taking the lock: another decision may just have committed.
        task = await session.scalar(
            select(Task).where(Task.id == task_id).execution_options(populate_existing=True)
        )
        return task, application

    def _move_task(self, task: Task, move: str, *, decision: Optional[str], opinion: Optional[str]) -> None:
        task.status = t.task_after(task.kind, task.status, move)
        if task.status == t.DONE:
            task.decision = decision
            task.opinion = opinion
            task.decided_at = self.now()

    async def _node_tasks(self, session: AsyncSession, application: Application, node_index: int) -> list[Task]:
        rows = await session.scalars(
            select(Task).where(
                Task.application_id == application.id,
                Task.round == application.round,
                Task.node_index == node_index,
            )
        )
        return list(rows)

    async def _cancel_open_tasks(self, session: AsyncSession, application: Application) -> list[Task]:
        rows = list(
            await session.scalars(
                select(Task).where(
                    Task.application_id == application.id, Task.status.in_(t.OPEN_TASK_STATES)
                )
            )
        )
        self._cancel(rows)
        return rows

    def _cancel(self, tasks: Iterable[Task]) -> None:
        for task in tasks:
            task.status = t.task_after(task.kind, task.status, "cancel")

    async def _start_node(
        self,
        session: AsyncSession,
        application: Application,
        index: int,
        org: OrgDirectory,
        *,
        matter_name: Optional[str] = None,
        previous: Optional[dict[str, Any]] = None,
    ) -> None:
        """Create the tasks of node ``index``, or finish the application after the last."""
        now = self.now()
        application.updated_at = now
        if index >= len(application.process):
            application.status = t.application_after(application.status, "finish")
            application.current_node = None
            application.finished_at = now
            self._notify(session, "application_approved", application.applicant_id, application)
            return
        if index > 0:
            application.status = t.application_after(application.status, "advance")
            self._notify(
                session, "application_progressed", application.applicant_id, application,
                node_name=(previous or {}).get("name"),
            )
        application.current_node = index
        node = application.process[index]
        applicant = await session.scalar(select(User).where(User.id == application.applicant_id))
        people = await approvers_for_node(node, applicant, application.chosen_approvers, org)
        tasks = [
            self._new_task(session, application, index, node, person, kind=t.APPROVAL, now=now)
            for person in people
        ]
        await session.flush()
        for task in tasks:
            self._notify(session, "task_assigned", task.assignee_id, application, task=task, node_name=node["name"])

    def _new_task(
        self, session: AsyncSession, application: Application, index: int, node: dict[str, Any],
        assignee: User, *, kind: str, now: datetime, parent: Optional[Task] = None,
    ) -> Task:
        task = Task(
            application_id=application.id,
            round=application.round,
            node_index=index,
            node_key=node["key"],
            assignee_id=assignee.id,
            kind=kind,
            parent_task_id=parent.id if parent else None,
            status=t.PENDING,
            created_at=now,
        )
        session.add(task)
        return task

    def _record(
        self, session: AsyncSession, application: Application, actor: User, action: str, *,
        node: Optional[dict[str, Any]], task: Optional[Task] = None, opinion: Optional[str] = None,
        detail: Optional[dict[str, Any]] = None,
    ) -> None:
        session.add(
            FlowRecord(
                application_id=application.id,
                task_id=task.id if task else None,
                round=application.round,
                node_key=node["key"] if node else None,
                node_name=node["name"] if node else "发起申请" if action in ("submit", "resubmit") else "申请人",
                actor_id=actor.id,
                action=action,
                opinion=opinion or None,
                detail=detail or {},
                created_at=self.now(),
            )
        )

    def _notify(
        self, session: AsyncSession, event: str, recipient_id: int, application: Application, *,
        task: Optional[Task] = None, **payload: Any,
    ) -> None:
        session.add(
            OutboxMessage(
                event=event,
                recipient_id=recipient_id,
                application_id=application.id,
                task_id=task.id if task else None,
                payload={"number": application.number, "status": application.status, **payload},
                created_at=self.now(),
                next_attempt_at=self.now(),
            )
        )

