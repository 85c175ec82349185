"""The workflow engine: submit, approve, return (退回), add signers (加签), sign,
terminate (终止), resubmit — plain Python over one SQLAlchemy session.

Each command runs inside the caller's unit of work (``Database.write()``): the state
change, its flow record and its outbox notifications commit together or not at all.
Commands lock the application row first, so two decisions on the same application are
serialized and the second one sees the first one's result (→ 409, never a second
transition). A command reads its case (the application and all its tasks) once, moves
states through the transition table in memory, and hands its changes to
``Repository.write``, which sends them in a few batched, guarded statements.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any, Callable, Optional

from sqlalchemy.ext.asyncio import AsyncSession

from ..db.models import User, utcnow
from ..db.repository import Repository
from ..db.rows import Applicant, ApplicationRow, Case, Changes, Person, TaskRow
from . import transitions as t
from .approvers import Org, approvers_for_node, check_choices
from ..errors import Forbidden, InvalidInput, NotFound
from .forms import person_values, validate_form

NUMBER_PREFIX = "SW"
MAX_OPINION = 2000
MAX_SIGNERS = 10
MAX_TERMINATE = 100


@dataclass(frozen=True)
class Decision:
    """What a decision did, with the rows in hand for the caller's answer."""

    case: Case
    task: TaskRow


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


def _open(tasks: list[TaskRow]) -> list[TaskRow]:
    return [x for x in tasks if x.status in t.OPEN_TASK_STATES]


class Workflow:
    def __init__(self, tz: tzinfo, now: Callable[[], datetime] = utcnow):
        self.tz = tz
        self.now = now

    # ------------------------------------------------------------ commands

    async def submit(
        self, session: AsyncSession, actor: User, matter_code: Any, form: Any, approvers: Any
    ) -> ApplicationRow:
        if not isinstance(matter_code, str) or not matter_code:
            raise InvalidInput("matter_required", "请指定要办理的事项(matter)")
        runtime = await Repository.of(session)
        matter = await runtime.active_matter(matter_code)
        if matter is None:
            raise NotFound("matter_not_found", f"没有找到事项 {matter_code}")
        org = runtime.org
        cleaned = await self._validate(matter.form_schema, form, org)
        chosen = await check_choices(matter.process, actor, approvers, org)
        now = self.now()
        application = ApplicationRow(
            id=None, number=await self._next_number(runtime, now), matter_id=matter.id, applicant_id=actor.id,
            form=cleaned, process=matter.process, chosen_approvers=chosen, status=t.RUNNING, current_node=None,
            round=1, created_at=now, updated_at=now, finished_at=None,
        )
        await runtime.insert_application(application)
        applicant = Applicant(actor.id, actor.username, actor.name, actor.department_id)
        case = Case(application, matter.code, matter.name, applicant, [])
        changes = Changes()
        self._record(changes, application, actor, "submit", node=None)
        await self._start_node(changes, case, 0, org)
        await runtime.write(changes)
        return application

    async def resubmit(
        self, session: AsyncSession, actor: User, application_id: int, form: Any, approvers: Any
    ) -> ApplicationRow:
        runtime = await Repository.of(session)
        case = await self._lock_own_application(runtime, actor, application_id)
        application = case.application
        application.status = t.application_after(application.status, "resubmit")
        org = runtime.org
        if form is not None:  # the case has the matter's name; its form only a new form needs
            schema = await runtime.form_schema(application.matter_id)
            application.form = await self._validate(schema, form, org)
        if approvers is not None:
            application.chosen_approvers = await check_choices(application.process, actor, approvers, org)
        application.round += 1
        application.updated_at = self.now()
        changes = Changes()
        changes.application_changed(application)
        self._record(changes, application, actor, "resubmit", node=None)
        await self._start_node(changes, case, 0, org)
        await runtime.write(changes)
        return application

    async def approve(self, session: AsyncSession, actor: User, task_id: int, opinion: Any) -> Decision:
        text = _opinion(opinion, required=False)
        runtime = await Repository.of(session)
        case, task = await self._lock_own_task(runtime, actor, task_id)
        application, changes = case.application, Changes()
        self._move_task(changes, task, "approve", decision="approve", opinion=text)
        node = application.process[task.node_index]
        self._record(changes, application, actor, "approve", node=node, task=task, opinion=text)
        siblings = [x for x in case.tasks if x.round == application.round and x.node_index == task.node_index]
        if node.get("mode", "any") == "all":
            complete = all(
                s.status == t.DONE for s in siblings if s.kind == t.APPROVAL and s.status != t.CANCELLED
            )
        else:
            complete = True
        if complete:
            self._cancel(changes, _open(siblings))
            await self._start_node(changes, case, task.node_index + 1, runtime.org, previous=node)
        await runtime.write(changes)
        return Decision(case, task)

    async def return_(self, session: AsyncSession, actor: User, task_id: int, opinion: Any) -> Decision:
        text = _opinion(opinion, required=True)
        runtime = await Repository.of(session)
        case, task = await self._lock_own_task(runtime, actor, task_id)
        application, changes = case.application, Changes()
        self._move_task(changes, task, "return", decision="return", opinion=text)
        application.status = t.application_after(application.status, "return")
        application.current_node = None
        application.updated_at = self.now()
        changes.application_changed(application)
        self._cancel(changes, _open(case.tasks))
        node = application.process[task.node_index]
        self._record(changes, application, actor, "return", node=node, task=task, opinion=text)
        self._notify(
            changes, "application_returned", application.applicant_id, application,
            task=task, opinion=text, node_name=node["name"], actor_name=actor.name,
        )
        await runtime.write(changes)
        return Decision(case, task)

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
        runtime = await Repository.of(session)
        case, task = await self._lock_own_task(runtime, actor, task_id)
        application, changes = case.application, Changes()
        if task.kind == t.SIGNER:
            raise InvalidInput("nested_signers", "加签人员不能再加签")
        found = await runtime.org.users_by_username(usernames)
        missing = [u for u in usernames if u not in found]
        if missing:
            raise InvalidInput("user_not_found", f"没有找到用户 {missing[0]}")
        signers = [found[u] for u in usernames]
        for signer in signers:
            if signer.id == application.applicant_id:
                raise InvalidInput("signer_is_applicant", "不能加签给申请人本人")
            if signer.id == actor.id:
                raise InvalidInput("signer_is_self", "不能加签给自己")
        self._move_task(changes, task, "add_signers", decision=None, opinion=None)
        node = application.process[task.node_index]
        names = [s.name for s in signers]
        self._record(
            changes, application, actor, "add_signers", node=node, task=task, opinion=text,
            detail={"signers": [s.username for s in signers], "names": names},
        )
        now = self.now()
        for signer in signers:
            signer_task = self._new_task(changes, case, task.node_index, node, signer, kind=t.SIGNER, now=now,
                                         parent=task)
            self._notify(
                changes, "signer_requested", signer.id, application, task=signer_task,
                opinion=text, node_name=node["name"], actor_name=actor.name,
            )
        self._notify(
            changes, "application_signers_added", application.applicant_id, application,
            node_name=node["name"], actor_name=actor.name, signers=names,
        )
        await runtime.write(changes)
        return Decision(case, task)

    async def sign(
        self, session: AsyncSession, actor: User, task_id: int, opinion: Any, agree: Any
    ) -> Decision:
        text = _opinion(opinion, required=True)
        if not isinstance(agree, bool):
            raise InvalidInput("agree_required", "请说明是否同意(agree: true/false)")
        runtime = await Repository.of(session)
        case, task = await self._lock_own_task(runtime, actor, task_id)
        application, changes = case.application, Changes()
        self._move_task(changes, task, "sign", decision="agree" if agree else "disagree", opinion=text)
        node = application.process[task.node_index]
        self._record(
            changes, application, actor, "sign", node=node, task=task, opinion=text,
            detail={"agree": agree},
        )
        parent = case.task(task.parent_task_id)
        owing = _open([x for x in case.tasks if x.parent_task_id == parent.id])
        if not owing and parent.status == t.WAITING:
            self._move_task(changes, parent, "signers_done", decision=None, opinion=None)
            self._notify(
                changes, "signer_opinions_ready", parent.assignee_id, application, task=parent,
                node_name=node["name"],
            )
        await runtime.write(changes)
        return Decision(case, task)

    async def terminate(
        self, session: AsyncSession, actor: User, ids: Any, reason: Any
    ) -> list[ApplicationRow]:
        text = _opinion(reason, required=False)
        if (
            not isinstance(ids, list)
            or not ids
            or not all(isinstance(i, int) and not isinstance(i, bool) for i in ids)
        ):
            raise InvalidInput("ids_required", "请指定要终止的申请(ids)")
        if len(ids) > MAX_TERMINATE:
            raise InvalidInput("too_many_ids", f"一次最多终止 {MAX_TERMINATE} 个申请")
        runtime = await Repository.of(session)
        changes, finished = Changes(), []
        for application_id in sorted(set(ids)):  # a fixed lock order avoids deadlocks
            case = await self._lock_own_application(runtime, actor, application_id)
            application = case.application
            application.status = t.application_after(application.status, "terminate")
            application.current_node = None
            application.finished_at = application.updated_at = self.now()
            changes.application_changed(application)
            cancelled = _open(case.tasks)
            self._cancel(changes, cancelled)
            self._record(changes, application, actor, "terminate", node=None, opinion=text)
            for assignee_id in {task.assignee_id for task in cancelled}:
                self._notify(changes, "application_terminated", assignee_id, application, opinion=text)
            finished.append(application)
        await runtime.write(changes)
        return finished

    # ------------------------------------------------------------ helpers

    async def _validate(self, schema: list[dict[str, Any]], form: Any, org: Org) -> dict[str, Any]:
        today = self.now().astimezone(self.tz).date()
        cleaned = validate_form(schema, form, today)
        people = person_values(schema, cleaned)
        found = await org.users_by_username(people.values())
        bad = {key: "没有找到该人员" for key, username in people.items() if username not in found}
        if bad:
            raise InvalidInput("form_invalid", "表单填写有误:没有找到所填的人员", {"fields": bad})
        return cleaned

    async def _next_number(self, runtime: Repository, now: datetime) -> str:
        day = now.astimezone(self.tz).strftime("%Y%m%d")
        return f"{NUMBER_PREFIX}{day}-{await runtime.next_number(day):04d}"

    async def _lock_own_application(self, runtime: Repository, actor: User, application_id: int) -> Case:
        case = await runtime.lock_case(application_id)
        if case is None:
            raise NotFound("application_not_found", f"没有找到申请 {application_id}")
        if case.application.applicant_id != actor.id:
            raise Forbidden("not_applicant", "只有申请人本人可以执行该操作")
        return case

    async def _lock_own_task(self, runtime: Repository, actor: User, task_id: int) -> tuple[Case, TaskRow]:
        # The tasks are read after the application's lock is taken: another decision may just have committed.
        case = await runtime.lock_case_of_task(task_id, actor.id)
        if case is None:  # not found and not yours look the same: no leak
            raise NotFound("task_not_found", f"没有找到您的任务 {task_id}")
        return case, case.task(task_id)

    def _move_task(
        self, changes: Changes, task: TaskRow, move: str, *, decision: Optional[str], opinion: Optional[str]
    ) -> None:
        was = task.status
        task.status = t.task_after(task.kind, was, move)
        if task.status == t.DONE:
            task.decision = decision
            task.opinion = opinion
            task.decided_at = self.now()
            changes.task_decided(task, was)
        else:
            changes.task_moved(task, was)

    def _cancel(self, changes: Changes, tasks: list[TaskRow]) -> None:
        for task in tasks:
            self._move_task(changes, task, "cancel", decision=None, opinion=None)

    async def _start_node(
        self, changes: Changes, case: Case, index: int, org: Org,
        *, previous: Optional[dict[str, Any]] = None,
    ) -> None:
        """Create the tasks of node ``index``, or finish the application after the last."""
        application = case.application
        now = self.now()
        application.updated_at = now
        changes.application_changed(application)
        if index >= len(application.process):
            application.status = t.application_after(application.status, "finish")
            application.current_node = None
            application.finished_at = now
            self._notify(changes, "application_approved", application.applicant_id, application)
            return
        if index > 0:
            application.status = t.application_after(application.status, "advance")
            self._notify(
                changes, "application_progressed", application.applicant_id, application,
                node_name=(previous or {}).get("name"),
            )
        application.current_node = index
        node = application.process[index]
        people = await approvers_for_node(node, case.applicant, application.chosen_approvers, org)
        for person in people:
            task = self._new_task(changes, case, index, node, person, kind=t.APPROVAL, now=now)
            self._notify(changes, "task_assigned", task.assignee_id, application, task=task, node_name=node["name"])

    def _new_task(
        self, changes: Changes, case: Case, index: int, node: dict[str, Any], assignee: User, *,
        kind: str, now: datetime, parent: Optional[TaskRow] = None,
    ) -> TaskRow:
        task = TaskRow(
            application_id=case.application.id, round=case.application.round, node_index=index,
            node_key=node["key"], assignee=Person(assignee.id, assignee.username, assignee.name), kind=kind,
            parent_task_id=parent.id if parent else None, status=t.PENDING, created_at=now,
        )
        changes.new_tasks.append(task)
        case.tasks.append(task)
        return task

    def _record(
        self, changes: Changes, application: ApplicationRow, actor: User, action: str, *,
        node: Optional[dict[str, Any]], task: Optional[TaskRow] = None, opinion: Optional[str] = None,
        detail: Optional[dict[str, Any]] = None,
    ) -> None:
        changes.records.append({
            "application_id": application.id,
            "task_id": task.id if task else None,
            "round": application.round,
            "node_key": node["key"] if node else None,
            "node_name": node["name"] if node else "发起申请" if action in ("submit", "resubmit") else "申请人",
            "actor_id": actor.id,
            "action": action,
            "opinion": opinion or None,
            "detail": detail or {},
            "created_at": self.now(),
        })

    def _notify(
        self, changes: Changes, event: str, recipient_id: int, application: ApplicationRow, *,
        task: Optional[TaskRow] = None, **payload: Any,
    ) -> None:
        now = self.now()
        changes.outbox.append(({
            "event": event,
            "recipient_id": recipient_id,
            "application_id": application.id,
            "payload": {"number": application.number, "status": application.status, **payload},
            "created_at": now,
            "next_attempt_at": now,
        }, task))
