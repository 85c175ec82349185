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

from datetime import datetime, timedelta, timezone, tzinfo
from functools import partial
from typing import Any, Awaitable, Callable, Optional, Protocol

from ..db.rows import Applicant, ApplicationRow, Case, Changes, FileRow, MatterRow, Person, TaskRow
from ..errors import Conflict, Forbidden, InvalidInput, NotFound
from . import transitions as t
from .applicants import may_apply, needs_roles, refusal
from .approvers import Member, Org, approvers_for_node, candidates_for, check_choices, is_applicant_choice
from .commands import (
    AddSigners,
    Approve,
    CarbonCopy,
    Command,
    Comment,
    Decision,
    Delegate,
    R,
    Remind,
    RemoveSigners,
    Resubmit,
    Return,
    Sign,
    Submit,
    Terminate,
    Timeout,
    Transfer,
    Withdraw,
)
from .forms import attachment_values, person_values, validate_form

NUMBER_PREFIX = "SW"
REMIND_EVERY = timedelta(hours=4)  # 催办: at most once per node in this time
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

    async def files(self, ids: list[int]) -> dict[int, FileRow]: ...

    async def last_record_at(self, application_id: int, action: str, round_: int,
                             node_key: str) -> Optional[datetime]: ...

    async def write(self, changes: Changes) -> None: ...


def _open(tasks: list[TaskRow]) -> list[TaskRow]:
    return [x for x in tasks if x.status in t.OPEN_TASK_STATES]


def _at_node(case: Case, index: int) -> list[TaskRow]:
    """This round's tasks at node ``index`` (every visit of it)."""
    return [x for x in case.tasks if x.round == case.application.round and x.node_index == index]


def _this_visit(case: Case) -> list[TaskRow]:
    """The tasks of the current node since it last became current: the round's last run of
    tasks at that node (a node sent back to is visited again in the same round)."""
    application = case.application
    visit: list[TaskRow] = []
    for task in reversed([x for x in case.tasks if x.round == application.round]):
        if task.node_index != application.current_node:
            break
        visit.append(task)
    return visit


class Context:
    """One command being handled: who gives it, when, on what, and the changes so far."""

    def __init__(self, repository: Repository, actor: Actor, tz: tzinfo, now: datetime):
        self.repository = repository
        self.org = repository.org
        self.actor = actor
        self.tz = tz
        self.now = now
        self.changes = Changes()
        self.by_system = False  # a rule's move (a timeout, a skipped node): its records say so

    async def lock_own_application(self, application_id: int) -> Case:
        case = await self.repository.lock_case(application_id)
        # What the actor may not see is not found, like a missing one: no existence leak.
        # Seen (an approver of it) but not theirs: forbidden.
        if case is None or not case.seen_by(self.actor.id):
            raise NotFound("application_not_found", f"没有找到申请 {application_id}")
        if case.application.applicant_id != self.actor.id:
            raise Forbidden("not_applicant", "只有申请人本人可以执行该操作")
        return case

    async def lock_visible_application(self, application_id: int) -> Case:
        """An application the actor applied for or holds or held a task of."""
        case = await self.repository.lock_case(application_id)
        if case is None or not case.seen_by(self.actor.id):
            raise NotFound("application_not_found", f"没有找到申请 {application_id}")
        return case

    async def lock_own_task(self, task_id: int) -> tuple[Case, TaskRow]:
        # The tasks are read after the application's lock is taken: another decision may just have committed.
        case = await self.repository.lock_case_of_task(task_id, self.actor.id)
        if case is None:  # not found and not yours look the same: no leak
            raise NotFound("task_not_found", f"没有找到您的任务 {task_id}")
        return case, case.task(task_id)

    async def may_apply(self, matter: MatterRow) -> bool:
        """Whether the actor is one of those the matter is for; their roles are read only if it names some."""
        roles = (await self.org.roles_of([self.actor.id]))[self.actor.id] if needs_roles(matter.applicants) else []
        return may_apply(matter.applicants, getattr(self.actor, "kind", "staff"), roles)  # a user's default kind

    async def validate(self, schema: list[dict[str, Any]], form: dict[str, Any]) -> dict[str, Any]:
        cleaned = validate_form(schema, form, self.now.astimezone(self.tz).date())
        people = person_values(schema, cleaned)
        found = await self.org.users_by_username(people.values())
        bad = {key: "没有找到该人员" for key, username in people.items() if username not in found}
        if bad:
            raise InvalidInput("form_invalid", "表单填写有误:没有找到所填的人员", {"fields": bad})
        return cleaned

    async def attachments(self, schema: list[dict[str, Any]], cleaned: dict[str, Any],
                          application: ApplicationRow, *, replacing: bool = False) -> None:
        """The uploaded files the form names: each must exist, be the applicant's own and not be
        attached to another application; they are attached to this one with the command's write.
        Someone else's file is reported like a missing one (no existence leak). ``replacing``
        (a resubmitted form): the files attached to the application that the form no longer
        names are detached in the same write — unattached uploads of their owner again."""
        named = attachment_values(schema, cleaned)
        files = await self.repository.files(sorted({i for ids in named.values() for i in ids})) if named else {}
        bad = {}
        for key, ids in named.items():
            for file_id in ids:
                found = files.get(file_id)
                if found is None or found.owner_id != self.actor.id:
                    bad[key] = f"没有找到附件 {file_id}(请重新上传)"
                elif found.application_id not in (None, application.id):
                    bad[key] = f"附件「{found.name}」已用于另一份申请,请重新上传"
        if bad:
            raise InvalidInput("form_invalid", "表单填写有误:" + next(iter(bad.values())), {"fields": bad})
        for found in files.values():
            if found.application_id is None:
                found.application_id = application.id
                self.changes.attached.append(found)
        if replacing:
            self.changes.detach_unnamed[application.id] = sorted(files)

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
        await self.assign_node(case, index)

    async def assign_node(self, case: Case, index: int) -> None:
        """Make node ``index`` current and give its approvers their tasks — or, by the node's
        rules, skip it (the applicant is its approver; nobody is) or give it to the matter's admin."""
        application = case.application
        application.current_node = index
        node = application.process[index]
        skip = None
        if node.get("if_applicant_approves") == "skip" and not is_applicant_choice(node) and any(
                p.id == case.applicant.id for p in await candidates_for(node["approvers"], case.applicant, self.org,
                                                                        with_applicant=True)):
            skip = "applicant"
            people = []
        else:
            try:
                people = await approvers_for_node(node, case.applicant, application.chosen_approvers, self.org)
            except InvalidInput as error:
                fallback = node.get("if_no_approver")
                if error.code != "no_approver" or fallback is None:
                    raise
                people = list((await self.org.users_by_username([node["admin"]])).values()) if fallback == "admin" else []
                if not people:
                    skip = "no_approver"
        if skip:
            self.record(application, "skip", node=node, detail={"reason": skip, "system": True})
            await self.start_node(case, index + 1, previous=node)
            return
        for person in people:
            task = self.new_task(case, index, node, person, kind=t.APPROVAL)
            self.notify("task_assigned", task.assignee_id, application, task=task, node_name=node["name"])

    async def colleague(self, case: Case, task: TaskRow, username: str, verb: str) -> Member:
        """Someone a task may be handed to (转办 / 委派): not the applicant, not the actor,
        not someone already holding an open task at the node."""
        person = (await self.org.users_by_username([username])).get(username)
        if person is None:
            raise InvalidInput("user_not_found", f"没有找到用户 {username}")
        if person.id == case.application.applicant_id:
            raise InvalidInput("to_is_applicant", f"不能{verb}给申请人本人")
        if person.id == self.actor.id:
            raise InvalidInput("to_is_self", f"不能{verb}给自己")
        if any(x.assignee_id == person.id for x in _open(_at_node(case, task.node_index))):
            raise InvalidInput("already_assignee", f"{person.name}已在办理该环节")
        return person

    async def people(self, usernames: tuple[str, ...]) -> list[Member]:
        """Users named by username, each known, in the order given."""
        found = await self.org.users_by_username(usernames)
        missing = [u for u in usernames if u not in found]
        if missing:
            raise InvalidInput("user_not_found", f"没有找到用户 {missing[0]}")
        return [found[u] for u in usernames]

    def carbon_copy(self, case: Case, people: list[Member], node: Optional[dict[str, Any]]) -> None:
        """抄送: a read-only notice and a place in their 抄送我的 list (not the applicant's own, nor
        the actor's)."""
        application = case.application
        people = [p for p in {p.id: p for p in people}.values() if p.id not in (application.applicant_id, self.actor.id)]
        if not people:
            return
        for person in people:
            self.changes.cc.append({"application_id": application.id, "user_id": person.id, "by_id": self.actor.id,
                                    "node_key": node["key"] if node else None, "created_at": self.now})
            self.notify("application_cc", person.id, application, actor_name=self.actor.name,
                        node_name=node["name"] if node else None)
        self.record(application, "cc", node=node,
                    detail={"users": [p.username for p in people], "names": [p.name for p in people]})

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
            "detail": {**(detail or {}), **({"system": True} if self.by_system else {})},
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
    if not await ctx.may_apply(matter):
        raise Forbidden(*refusal(matter.name, matter.applicants))
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
    await ctx.attachments(matter.form_schema, cleaned, application)
    actor = ctx.actor
    case = Case(application, matter.code, matter.name,
                Applicant(actor.id, actor.username, actor.name, actor.department_id), [])
    ctx.record(application, "submit", node=None)
    ctx.carbon_copy(case, await ctx.people(command.cc), None)
    await ctx.start_node(case, 0)
    return application


async def resubmit(command: Resubmit, ctx: Context) -> ApplicationRow:
    case = await ctx.lock_own_application(command.application_id)
    application = case.application
    ctx.move_application(application, "resubmit")
    if command.form is not None:  # the case has the matter's name; its form only a new form needs
        schema = await ctx.repository.form_schema(application.matter_id)
        application.form = await ctx.validate(schema, command.form)
        await ctx.attachments(schema, application.form, application, replacing=True)
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
    await _pass_node_if_complete(ctx, case, node, await ctx.people(command.cc))
    return Decision(case, task)


def _node_complete(case: Case, node: dict[str, Any]) -> bool:
    """Whether the current node is decided: 会签 every approver, 或签 any one — and every
    after-signer (后加签, approval tasks with a parent) after them. A task handed on (转办) is
    the new holder's to approve."""
    approvals = [s for s in _this_visit(case) if s.kind == t.APPROVAL and s.status != t.CANCELLED
                 and s.decision != "transfer"]
    regular = [s for s in approvals if s.parent_task_id is None]
    after = [s for s in approvals if s.parent_task_id is not None]
    if node.get("mode", "any") == "all":
        decided = all(s.status == t.DONE for s in regular)
    else:
        decided = any(s.status == t.DONE for s in regular)
    return decided and all(s.status == t.DONE for s in after)


async def _pass_node_if_complete(ctx: Context, case: Case, node: dict[str, Any], copied: list[Member]) -> None:
    """After an approval (or 减签 of the last after-signer): the next node once this one is decided."""
    complete = _node_complete(case, node)
    if complete:
        ctx.cancel(_open(_this_visit(case)))
        if node.get("cc"):  # the matter copies people when this node is passed
            copied = copied + await candidates_for(node["cc"], case.applicant, ctx.org)
    ctx.carbon_copy(case, copied, node)
    if complete:
        await ctx.start_node(case, case.application.current_node + 1, previous=node)


async def return_(command: Return, ctx: Context) -> Decision:
    case, task = await ctx.lock_own_task(command.task_id)
    application = case.application
    ctx.move_task(task, "return", decision="return", opinion=command.opinion)
    if command.to_node is not None:
        return await _send_back(command.to_node, command.opinion, ctx, case, task)
    ctx.move_application(application, "return")
    application.current_node = None
    ctx.cancel(_open(case.tasks))
    node = application.process[task.node_index]
    ctx.record(application, "return", node=node, task=task, opinion=command.opinion)
    ctx.notify("application_returned", application.applicant_id, application, task=task,
               opinion=command.opinion, node_name=node["name"], actor_name=ctx.actor.name)
    return Decision(case, task)


async def _send_back(to_node: str, opinion: str, ctx: Context, case: Case, task: TaskRow) -> Decision:
    """退回到某个环节: only one the application has passed; it runs again from there."""
    application = case.application
    index = next((i for i, n in enumerate(application.process[:task.node_index]) if n["key"] == to_node), None)
    if index is None:
        raise InvalidInput("node_not_passed", "只能退回到已经过的环节")
    ctx.move_application(application, "send_back")
    ctx.cancel(_open(case.tasks))
    node, target = application.process[task.node_index], application.process[index]
    ctx.record(application, "return", node=node, task=task, opinion=opinion,
               detail={"to_node": target["key"], "to_node_name": target["name"]})
    await ctx.assign_node(case, index)
    ctx.notify("application_sent_back", application.applicant_id, application, opinion=opinion,
               node_name=node["name"], to_node_name=target["name"], actor_name=ctx.actor.name)
    return Decision(case, task)


async def transfer(command: Transfer, ctx: Context) -> Decision:
    case, task = await ctx.lock_own_task(command.task_id)
    application = case.application
    ctx.move_task(task, "transfer", decision="transfer", opinion=command.opinion)
    to = await ctx.colleague(case, task, command.to, "转办")
    node = application.process[task.node_index]
    ctx.record(application, "transfer", node=node, task=task, opinion=command.opinion,
               detail={"to": to.username, "name": to.name})
    handed = ctx.new_task(case, task.node_index, node, to, kind=t.APPROVAL)
    handed.parent_task_id = task.parent_task_id  # an after-signer's task stays one
    ctx.notify("task_assigned", to.id, application, task=handed, node_name=node["name"],
               actor_name=ctx.actor.name, opinion=command.opinion, transferred=True)
    return Decision(case, task)


async def delegate(command: Delegate, ctx: Context) -> Decision:
    case, task = await ctx.lock_own_task(command.task_id)
    application = case.application
    ctx.move_task(task, "delegate")
    to = await ctx.colleague(case, task, command.to, "委派")
    node = application.process[task.node_index]
    ctx.record(application, "delegate", node=node, task=task, opinion=command.opinion,
               detail={"to": to.username, "name": to.name})
    delegated = ctx.new_task(case, task.node_index, node, to, kind=t.DELEGATE, parent=task)
    ctx.notify("delegate_requested", to.id, application, task=delegated, opinion=command.opinion,
               node_name=node["name"], actor_name=ctx.actor.name)
    return Decision(case, task)


async def add_signers(command: AddSigners, ctx: Context) -> Decision:
    case, task = await ctx.lock_own_task(command.task_id)
    application = case.application
    if task.kind != t.APPROVAL:
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
    # 前加签: the task waits for the signers' opinions; 后加签 (同意并后加签): the actor approves
    # and the node waits for the signers' approvals after theirs.
    after = command.when == "after"
    if after:
        ctx.move_task(task, "add_signers_after", decision="approve", opinion=command.opinion)
        holding = {x.assignee_id for x in _open(_this_visit(case))}
        busy = next((s for s in signers if s.id in holding), None)
        if busy is not None:
            raise InvalidInput("already_assignee", f"{busy.name}已在办理该环节")
    else:
        ctx.move_task(task, "add_signers")
    node = application.process[task.node_index]
    names = [s.name for s in signers]
    ctx.record(application, "add_signers_after" if after else "add_signers", node=node, task=task,
               opinion=command.opinion, detail={"signers": [s.username for s in signers], "names": names})
    for signer in signers:
        signer_task = ctx.new_task(case, task.node_index, node, signer, kind=t.APPROVAL if after else t.SIGNER,
                                   parent=task)
        ctx.notify("after_signer_requested" if after else "signer_requested", signer.id, application,
                   task=signer_task, opinion=command.opinion, node_name=node["name"], actor_name=ctx.actor.name)
    ctx.notify("application_signers_added", application.applicant_id, application,
               node_name=node["name"], actor_name=ctx.actor.name, signers=names)
    return Decision(case, task)


async def remove_signers(command: RemoveSigners, ctx: Context) -> Decision:
    """减签: signers the actor added (before or after) who have not decided are taken back."""
    case, task = await ctx.lock_own_task(command.task_id)
    application = case.application
    t.application_after(application.status, "remove_signers")
    added = [x for x in case.tasks if x.parent_task_id == task.id and x.kind in (t.SIGNER, t.APPROVAL)]
    unknown = next((u for u in command.usernames if u not in {x.assignee.username for x in added}), None)
    if unknown is not None:
        raise InvalidInput("not_a_signer", f"{unknown} 不是您加签的人员")
    removed = [x for x in _open(added) if x.assignee.username in command.usernames]
    if len({x.assignee.username for x in removed}) < len(command.usernames):
        raise Conflict("signer_decided", "所选人员已经给出意见或办理过了,不能减签")
    for signer_task in removed:
        ctx.cancel(_open([x for x in case.tasks if x.parent_task_id == signer_task.id]))
        ctx.cancel([signer_task])
    node = application.process[task.node_index]
    ctx.record(application, "remove_signers", node=node, task=task,
               detail={"signers": [x.assignee.username for x in removed], "names": [x.assignee.name for x in removed]})
    for signer_task in removed:
        ctx.notify("signer_removed", signer_task.assignee_id, application, node_name=node["name"],
                   actor_name=ctx.actor.name)
    if task.status == t.WAITING and not _open([x for x in added if x.kind == t.SIGNER]):
        ctx.move_task(task, "signers_done")  # nobody owes an opinion any more: decide
    elif task.status == t.DONE:  # after-signers taken back: the node may be decided now
        await _pass_node_if_complete(ctx, case, node, [])
    return Decision(case, task)


async def sign(command: Sign, ctx: Context) -> Decision:
    case, task = await ctx.lock_own_task(command.task_id)
    application = case.application
    ctx.move_task(task, "sign", decision="agree" if command.agree else "disagree", opinion=command.opinion)
    node = application.process[task.node_index]
    delegated = task.kind == t.DELEGATE
    ctx.record(application, "delegate_opinion" if delegated else "sign", node=node, task=task,
               opinion=command.opinion, detail={"agree": command.agree})
    parent = case.task(task.parent_task_id)
    owing = _open([x for x in case.tasks if x.parent_task_id == parent.id])
    if not owing and parent.status == t.WAITING:
        ctx.move_task(parent, "signers_done")
        ctx.notify("delegate_done" if delegated else "signer_opinions_ready", parent.assignee_id, application,
                   task=parent, node_name=node["name"], actor_name=ctx.actor.name)
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


async def withdraw(command: Withdraw, ctx: Context) -> ApplicationRow:
    case = await ctx.lock_own_application(command.application_id)
    application = case.application
    ctx.move_application(application, "withdraw")
    if any(x.kind == t.APPROVAL and x.decision == "approve" for x in _this_visit(case)):
        raise Conflict("already_decided", "当前环节已有审批人同意,不能撤回;如不再办理可以终止流程")
    node = application.process[application.current_node]
    application.current_node = None
    cancelled = _open(case.tasks)
    ctx.cancel(cancelled)
    ctx.record(application, "withdraw", node=None, opinion=command.reason)
    for assignee_id in {task.assignee_id for task in cancelled}:
        ctx.notify("application_withdrawn", assignee_id, application, opinion=command.reason,
                   node_name=node["name"], actor_name=ctx.actor.name)
    return application


async def comment(command: Comment, ctx: Context) -> ApplicationRow:
    case = await ctx.lock_visible_application(command.application_id)
    application = case.application
    t.application_after(application.status, "comment")  # no state change, but not on a finished one
    node = application.process[application.current_node] if application.current_node is not None else None
    ctx.record(application, "comment", node=node, opinion=command.text)
    told = {application.applicant_id} | {x.assignee_id for x in _open(case.tasks)}
    for person_id in sorted(told - {ctx.actor.id}):
        ctx.notify("application_commented", person_id, application, opinion=command.text,
                   actor_name=ctx.actor.name, node_name=node["name"] if node else None)
    return application


async def copy_to(command: CarbonCopy, ctx: Context) -> ApplicationRow:
    case = await ctx.lock_visible_application(command.application_id)
    application = case.application
    t.application_after(application.status, "cc")
    node = application.process[application.current_node] if application.current_node is not None else None
    people = await ctx.people(command.usernames)
    if not [p for p in people if p.id not in (application.applicant_id, ctx.actor.id)]:
        raise InvalidInput("cc_nobody", "不能抄送给申请人本人或自己")
    ctx.carbon_copy(case, people, node)
    return application


async def remind(command: Remind, ctx: Context) -> ApplicationRow:
    case = await ctx.lock_own_application(command.application_id)
    application = case.application
    t.application_after(application.status, "remind")
    node = application.process[application.current_node]
    last = await ctx.repository.last_record_at(application.id, "remind", application.round, node["key"])
    if last is not None and ctx.now - last < REMIND_EVERY:
        again = (last + REMIND_EVERY).astimezone(ctx.tz).strftime("%H:%M")
        raise Conflict("remind_too_soon", f"「{node['name']}」环节刚催办过,每个环节 4 小时内只能催办一次,"
                                          f"请在 {again} 后再催", {"next_at": (last + REMIND_EVERY).isoformat()})
    ctx.record(application, "remind", node=node)
    for task in _open(case.tasks):
        ctx.notify("task_reminded", task.assignee_id, application, task=task, node_name=node["name"],
                   actor_name=ctx.actor.name)
    return application


async def timeout(command: Timeout, ctx: Context) -> Decision:
    """A node's timeout rule, given by the system on the task's holder's behalf."""
    case, task = await ctx.lock_own_task(command.task_id)
    application = case.application
    node = application.process[task.node_index]
    rule = node.get("timeout")
    hours = rule["hours"] if rule else 0
    due = (rule is not None and task.kind == t.APPROVAL and task.status == t.PENDING
           and application.status == t.RUNNING and ctx.now - task.created_at >= timedelta(hours=hours))
    if not due:
        raise Conflict("not_due", "该任务没有到期的超时规则")
    ctx.by_system = True
    waited = f"超过 {hours:g} 小时未办理"
    if rule["action"] == "approve":
        return await approve(Approve(task.id, f"{waited},系统自动同意"), ctx)
    if rule["action"] == "return":
        return await return_(Return(task.id, f"{waited},系统自动退回"), ctx)
    last = await ctx.repository.last_record_at(application.id, "remind", application.round, node["key"])
    if last is not None and ctx.now - last < timedelta(hours=hours):
        raise Conflict("not_due", "该环节刚提醒过")
    ctx.record(application, "remind", node=node, task=task, opinion=f"{waited},系统提醒")
    ctx.notify("task_reminded", task.assignee_id, application, task=task, node_name=node["name"], actor_name="系统")
    return Decision(case, task)


Handler = Callable[[Any, Context], Awaitable[Any]]
HANDLERS: dict[type[Command[Any]], Handler] = {
    Submit: submit,
    Resubmit: resubmit,
    Approve: approve,
    Return: return_,
    AddSigners: add_signers,
    Sign: sign,
    Terminate: terminate,
    Transfer: transfer,
    Delegate: delegate,
    Withdraw: withdraw,
    Comment: comment,
    Remind: remind,
    RemoveSigners: remove_signers,
    Timeout: timeout,
    CarbonCopy: copy_to,
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
