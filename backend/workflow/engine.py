"""The workflow engine: one handler per command, dispatched from ``HANDLERS``.

Each command runs inside the caller's unit of work (``Database.write()``) through a
``Repository``: the state change, its flow record and its outbox notifications commit
together or not at all. Handlers lock the application row first, so two decisions on the
same application are serialized and the second one sees the first one's result (→ 409,
never a second transition). A handler reads its case (the application and all its tasks)
once, moves states through the transition table in memory and collects its changes;
``Workflow.handle`` hands them to ``Repository.write``, which sends them in a few batched,
guarded statements.
"""
from __future__ import annotations

from datetime import datetime, timezone, tzinfo
from functools import partial
from typing import Any, Awaitable, Callable, Optional, Protocol

from ..db.rows import Applicant, ApplicationRow, Case, Changes, MatterRow, Person, TaskRow
from ..errors import Forbidden, InvalidInput, NotFound
from . import transitions as t
from .approvers import Member, Org, approvers_for_node, check_choices
from .commands import AddSigners, Approve, Command, Decision, R, Resubmit, Return, Sign, Submit, Terminate
from .forms import person_values, validate_form

NUMBER_PREFIX = "SW"
Actor = Member  # who gives a command: a user (id, username, name, department)


class Repository(Protocol):
    """What the handlers read and write: ``db.repository.Repository`` on a database, an
    in-memory fake in the engine's unit tests."""

    org: Org

    async def active_matter(self, code: str) -> Optional[MatterRow]: ...

    async def form_schema(self, matter_id: int) -> list[dict[str, Any]]: ...

    async def next_number(self, day: str) -> int: ...

    async def lock_case(self, application_id: int) -> Optional[Case]: ...

    async def lock_case_of_task(self, task_id: int, assignee_id: int) -> Optional[Case]: ...

    async def insert_application(self, application: ApplicationRow) -> None: ...

    async def write(self, changes: Changes) -> None: ...


def _open(tasks: list[TaskRow]) -> list[TaskRow]:
    return [x for x in tasks if x.status in t.OPEN_TASK_STATES]


class Context:
    """One command being handled: who gives it, when, on what, and the changes so far."""

    def __init__(self, repository: Repository, actor: Actor, tz: tzinfo, now: datetime):
        self.repository = repository
        self.org = repository.org
        self.actor = actor
        self.tz = tz
        self.now = now
        self.changes = Changes()

    async def lock_own_application(self, application_id: int) -> Case:
        case = await self.repository.lock_case(application_id)
        # What the actor may not see is not found, like a missing one: no existence leak.
        # Seen (an approver of it) but not theirs: forbidden.
        if case is None or not case.seen_by(self.actor.id):
            raise NotFound("application_not_found", f"没有找到申请 {application_id}")
        if case.application.applicant_id != self.actor.id:
            raise Forbidden("not_applicant", "只有申请人本人可以执行该操作")
        return case

    async def lock_own_task(self, task_id: int) -> tuple[Case, TaskRow]:
        # The tasks are read after the application's lock is taken: another decision may just have committed.
        case = await self.repository.lock_case_of_task(task_id, self.actor.id)
        if case is None:  # not found and not yours look the same: no leak
            raise NotFound("task_not_found", f"没有找到您的任务 {task_id}")
        return case, case.task(task_id)

    async def validate(self, schema: list[dict[str, Any]], form: dict[str, Any]) -> dict[str, Any]:
        cleaned = validate_form(schema, form, self.now.astimezone(self.tz).date())
        people = person_values(schema, cleaned)
        found = await self.org.users_by_username(people.values())
        bad = {key: "没有找到该人员" for key, username in people.items() if username not in found}
        if bad:
            raise InvalidInput("form_invalid", "表单填写有误:没有找到所填的人员", {"fields": bad})
        return cleaned

    def move_task(self, task: TaskRow, move: str, *, decision: Optional[str] = None,
                  opinion: Optional[str] = None) -> None:
        was = task.status
        task.status = t.task_after(task.kind, was, move)
        if task.status == t.DONE:
            task.decision = decision
            task.opinion = opinion
            task.decided_at = self.now
            self.changes.task_decided(task, was)
        else:
            self.changes.task_moved(task, was)

    def cancel(self, tasks: list[TaskRow]) -> None:
        for task in tasks:
            self.move_task(task, "cancel")

    def move_application(self, application: ApplicationRow, move: str) -> None:
        application.status = t.application_after(application.status, move)
        application.updated_at = self.now
        self.changes.application_changed(application)

    async def start_node(self, case: Case, index: int, *, previous: Optional[dict[str, Any]] = None) -> None:
        """Create the tasks of node ``index``, or finish the application after the last."""
        application = case.application
        application.updated_at = self.now
        self.changes.application_changed(application)
        if index >= len(application.process):
            self.move_application(application, "finish")
            application.current_node = None
            application.finished_at = self.now
            self.notify("application_approved", application.applicant_id, application)
            return
        if index > 0:
            self.move_application(application, "advance")
            self.notify("application_progressed", application.applicant_id, application,
                        node_name=(previous or {}).get("name"))
        application.current_node = index
        node = application.process[index]
        people = await approvers_for_node(node, case.applicant, application.chosen_approvers, self.org)
        for person in people:
            task = self.new_task(case, index, node, person, kind=t.APPROVAL)
            self.notify("task_assigned", task.assignee_id, application, task=task, node_name=node["name"])

    def new_task(self, case: Case, index: int, node: dict[str, Any], assignee: Member, *,
                 kind: str, parent: Optional[TaskRow] = None) -> TaskRow:
        task = TaskRow(
            application_id=case.application.id, round=case.application.round, node_index=index,
            node_key=node["key"], assignee=Person(assignee.id, assignee.username, assignee.name), kind=kind,
            parent_task_id=parent.id if parent else None, status=t.PENDING, created_at=self.now,
        )
        self.changes.new_tasks.append(task)
        case.tasks.append(task)
        return task

    def record(self, application: ApplicationRow, action: str, *, node: Optional[dict[str, Any]],
               task: Optional[TaskRow] = None, opinion: Optional[str] = None,
               detail: Optional[dict[str, Any]] = None) -> None:
        """The flow record (流转记录) of what the actor did."""
        self.changes.records.append({
            "application_id": application.id,
            "task_id": task.id if task else None,
            "round": application.round,
            "node_key": node["key"] if node else None,
            "node_name": node["name"] if node else "发起申请" if action in ("submit", "resubmit") else "申请人",
            "actor_id": self.actor.id,
            "action": action,
            "opinion": opinion or None,
            "detail": detail or {},
            "created_at": self.now,
        })

    def notify(self, event: str, recipient_id: int, application: ApplicationRow, *,
               task: Optional[TaskRow] = None, **payload: Any) -> None:
        """An outbox row, sent by the notifier once the command has committed."""
        self.changes.outbox.append(({
            "event": event,
            "recipient_id": recipient_id,
            "application_id": application.id,
            "payload": {"number": application.number, "status": application.status, **payload},
            "created_at": self.now,
            "next_attempt_at": self.now,
        }, task))


# ------------------------------------------------------------ handlers


async def submit(command: Submit, ctx: Context) -> ApplicationRow:
    matter = await ctx.repository.active_matter(command.matter_code)
    if matter is None:
        raise NotFound("matter_not_found", f"没有找到事项 {command.matter_code}")
    cleaned = await ctx.validate(matter.form_schema, command.form)
    chosen = await check_choices(matter.process, ctx.actor, command.approvers, ctx.org)
    day = ctx.now.astimezone(ctx.tz).strftime("%Y%m%d")  # numbered by the college's day
    number = f"{NUMBER_PREFIX}{day}-{await ctx.repository.next_number(day):04d}"
    application = ApplicationRow(
        id=None, number=number, matter_id=matter.id, applicant_id=ctx.actor.id, form=cleaned,
        process=matter.process, chosen_approvers=chosen, status=t.RUNNING, current_node=None, round=1,
        created_at=ctx.now, updated_at=ctx.now, finished_at=None,
    )
    await ctx.repository.insert_application(application)
    actor = ctx.actor
    case = Case(application, matter.code, matter.name,
                Applicant(actor.id, actor.username, actor.name, actor.department_id), [])
    ctx.record(application, "submit", node=None)
    await ctx.start_node(case, 0)
    return application


async def resubmit(command: Resubmit, ctx: Context) -> ApplicationRow:
    case = await ctx.lock_own_application(command.application_id)
    application = case.application
    ctx.move_application(application, "resubmit")
    if command.form is not None:  # the case has the matter's name; its form only a new form needs
        application.form = await ctx.validate(await ctx.repository.form_schema(application.matter_id), command.form)
    if command.approvers is not None:
        application.chosen_approvers = await check_choices(application.process, ctx.actor, command.approvers, ctx.org)
    application.round += 1
    ctx.record(application, "resubmit", node=None)
    await ctx.start_node(case, 0)
    return application


async def approve(command: Approve, ctx: Context) -> Decision:
    case, task = await ctx.lock_own_task(command.task_id)
    application = case.application
    ctx.move_task(task, "approve", decision="approve", opinion=command.opinion)
    node = application.process[task.node_index]
    ctx.record(application, "approve", node=node, task=task, opinion=command.opinion)
    siblings = [x for x in case.tasks if x.round == application.round and x.node_index == task.node_index]
    if node.get("mode", "any") == "all":  # 会签: every approver of the node; 或签: any one
        complete = all(s.status == t.DONE for s in siblings if s.kind == t.APPROVAL and s.status != t.CANCELLED)
    else:
        complete = True
    if complete:
        ctx.cancel(_open(siblings))
        await ctx.start_node(case, task.node_index + 1, previous=node)
    return Decision(case, task)


async def return_(command: Return, ctx: Context) -> Decision:
    case, task = await ctx.lock_own_task(command.task_id)
    application = case.application
    ctx.move_task(task, "return", decision="return", opinion=command.opinion)
    ctx.move_application(application, "return")
    application.current_node = None
    ctx.cancel(_open(case.tasks))
    node = application.process[task.node_index]
    ctx.record(application, "return", node=node, task=task, opinion=command.opinion)
    ctx.notify("application_returned", application.applicant_id, application, task=task,
               opinion=command.opinion, node_name=node["name"], actor_name=ctx.actor.name)
    return Decision(case, task)


async def add_signers(command: AddSigners, ctx: Context) -> Decision:
    case, task = await ctx.lock_own_task(command.task_id)
    application = case.application
    if task.kind == t.SIGNER:
        raise InvalidInput("nested_signers", "加签人员不能再加签")
    found = await ctx.org.users_by_username(command.usernames)
    missing = [u for u in command.usernames if u not in found]
    if missing:
        raise InvalidInput("user_not_found", f"没有找到用户 {missing[0]}")
    signers = [found[u] for u in command.usernames]
    for signer in signers:
        if signer.id == application.applicant_id:
            raise InvalidInput("signer_is_applicant", "不能加签给申请人本人")
        if signer.id == ctx.actor.id:
            raise InvalidInput("signer_is_self", "不能加签给自己")
    ctx.move_task(task, "add_signers")
    node = application.process[task.node_index]
    names = [s.name for s in signers]
    ctx.record(application, "add_signers", node=node, task=task, opinion=command.opinion,
               detail={"signers": [s.username for s in signers], "names": names})
    for signer in signers:
        signer_task = ctx.new_task(case, task.node_index, node, signer, kind=t.SIGNER, parent=task)
        ctx.notify("signer_requested", signer.id, application, task=signer_task, opinion=command.opinion,
                   node_name=node["name"], actor_name=ctx.actor.name)
    ctx.notify("application_signers_added", application.applicant_id, application,
               node_name=node["name"], actor_name=ctx.actor.name, signers=names)
    return Decision(case, task)


async def sign(command: Sign, ctx: Context) -> Decision:
    case, task = await ctx.lock_own_task(command.task_id)
    application = case.application
    ctx.move_task(task, "sign", decision="agree" if command.agree else "disagree", opinion=command.opinion)
    node = application.process[task.node_index]
    ctx.record(application, "sign", node=node, task=task, opinion=command.opinion, detail={"agree": command.agree})
    parent = case.task(task.parent_task_id)
    owing = _open([x for x in case.tasks if x.parent_task_id == parent.id])
    if not owing and parent.status == t.WAITING:
        ctx.move_task(parent, "signers_done")
        ctx.notify("signer_opinions_ready", parent.assignee_id, application, task=parent, node_name=node["name"])
    return Decision(case, task)


async def terminate(command: Terminate, ctx: Context) -> list[ApplicationRow]:
    finished = []
    for application_id in sorted(set(command.application_ids)):  # a fixed lock order avoids deadlocks
        case = await ctx.lock_own_application(application_id)
        application = case.application
        ctx.move_application(application, "terminate")
        application.current_node = None
        application.finished_at = ctx.now
        cancelled = _open(case.tasks)
        ctx.cancel(cancelled)
        ctx.record(application, "terminate", node=None, opinion=command.reason)
        for assignee_id in {task.assignee_id for task in cancelled}:
            ctx.notify("application_terminated", assignee_id, application, opinion=command.reason)
        finished.append(application)
    return finished


Handler = Callable[[Any, Context], Awaitable[Any]]
HANDLERS: dict[type[Command[Any]], Handler] = {
    Submit: submit,
    Resubmit: resubmit,
    Approve: approve,
    Return: return_,
    AddSigners: add_signers,
    Sign: sign,
    Terminate: terminate,
}


class Workflow:
    def __init__(self, tz: tzinfo, now: Callable[[], datetime] = partial(datetime.now, timezone.utc)):
        self.tz = tz
        self.now = now

    async def handle(self, repository: Repository, actor: Actor, command: Command[R]) -> R:
        """Run ``command``'s handler and write what it changed (the caller commits)."""
        ctx = Context(repository, actor, self.tz, self.now())
        result = await HANDLERS[type(command)](command, ctx)
        await repository.write(ctx.changes)
        return result
