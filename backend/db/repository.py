"""The workflow's repository, in SQLAlchemy Core: what a command reads under its lock (the
rows of ``rows.py``), its changes written back in a few batched statements, the matters it
submits to, the day's application numbers, and the org chart (``org``) for its approvers.

The engine works on plain rows here instead of ORM objects: a decision is the hot path
of the system and the ORM's identity map and unit of work cost more Python than the SQL
itself. Statements are built once with bound parameters, so each call only binds values
and hits SQLAlchemy's compiled cache.

Concurrency: ``lock_case_of_task`` / ``lock_case`` lock the application row (``FOR
UPDATE`` on PostgreSQL; SQLite's write transactions are serialized as a whole), and the
tasks are read only after that, so they are current. Every task update is still guarded
by the state it was read in (``… WHERE status = :was``), the application's by its version:
a row changed behind the lock's back makes the command fail with 409 instead of writing
over it.

Round trips, the main cost of a decision on PostgreSQL: BEGIN, the lock, the tasks, the next
node's approvers, one statement for all the writes (data-modifying CTEs), COMMIT. SQLite
(one writer at a time, in-process) sends one statement per kind of write.
"""
from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from typing import Any, Optional

from sqlalchemy import CTE, Insert, Integer, Select, Table, Update, bindparam, func, insert, literal, select, update
from sqlalchemy.dialects.postgresql import ARRAY, aggregate_order_by
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from ..errors import Conflict
from .models import (
    MAX_ID,
    Application,
    ApplicationCc,
    DailyCounter,
    Department,
    FlowRecord,
    Matter,
    OutboxMessage,
    Task,
    UploadedFile,
    User,
    as_utc,
)
from .org import OrgDirectory
from .rows import Applicant, ApplicationRow, Case, Changes, FileRow, MatterRow, Person, TaskRow

applications = Application.__table__
tasks = Task.__table__
users = User.__table__
departments = Department.__table__
matters = Matter.__table__
flow_records = FlowRecord.__table__
outbox = OutboxMessage.__table__


# ------------------------------------------------------------ statements, built once

_APPLICATION_COLUMNS = [applications.c[name] for name in ApplicationRow.__dataclass_fields__]
_CASE = (
    select(*_APPLICATION_COLUMNS, matters.c.code, matters.c.name,
           users.c.username, users.c.name.label("applicant_name"), users.c.department_id,
           departments.c.name.label("department_name"))
    .join_from(applications, matters, matters.c.id == applications.c.matter_id)
    .join(users, users.c.id == applications.c.applicant_id)
    .join(departments, departments.c.id == users.c.department_id)
    .with_for_update(of=applications)
)
LOCK_CASE = _CASE.where(applications.c.id == bindparam("application_id"))
LOCK_CASE_OF_TASK = _CASE.where(applications.c.id == (
    select(tasks.c.application_id)
    .where(tasks.c.id == bindparam("task_id"), tasks.c.assignee_id == bindparam("assignee_id"))
    .scalar_subquery()
))
CASE_TASKS = (
    select(tasks.c.id, tasks.c.application_id, tasks.c.round, tasks.c.node_index, tasks.c.node_key,
           tasks.c.assignee_id, users.c.username, users.c.name, tasks.c.kind, tasks.c.parent_task_id,
           tasks.c.status, tasks.c.created_at, tasks.c.decision, tasks.c.opinion, tasks.c.decided_at)
    .join_from(tasks, users, users.c.id == tasks.c.assignee_id)
    .where(tasks.c.application_id == bindparam("application_id"))
    .order_by(tasks.c.id)
)

LAST_RECORD_AT = select(func.max(flow_records.c.created_at)).where(
    flow_records.c.application_id == bindparam("application_id"), flow_records.c.action == bindparam("action"),
    flow_records.c.round == bindparam("round"), flow_records.c.node_key == bindparam("node_key"))

# 抄送 rows: someone copied twice on one application is kept once, with the first copy
INSERT_CC = {
    dialect: insert_(ApplicationCc).on_conflict_do_nothing(index_elements=["application_id", "user_id"])
    for dialect, insert_ in (("postgresql", pg_insert), ("sqlite", sqlite_insert))
}

# Attachments: the files a form names, and attaching them (once: a file attached meanwhile
# elsewhere fails the guard); at a resubmission, detaching those its new form no longer names
uploaded_files = UploadedFile.__table__
FILES = select(uploaded_files.c.id, uploaded_files.c.owner_id, uploaded_files.c.application_id,
               uploaded_files.c.original_name).where(uploaded_files.c.id.in_(bindparam("ids", expanding=True)))
ATTACH = update(uploaded_files).where(
    uploaded_files.c.id == bindparam("b_id"), uploaded_files.c.owner_id == bindparam("b_owner_id"),
    (uploaded_files.c.application_id.is_(None)) | (uploaded_files.c.application_id == bindparam("b_application_id")),
).values(application_id=bindparam("b_application_id"))
DETACH = update(uploaded_files).where(
    uploaded_files.c.application_id == bindparam("b_application_id"),
    uploaded_files.c.id.not_in(bindparam("b_kept", expanding=True)),
).values(application_id=None)

ACTIVE_MATTER = select(matters.c.id, matters.c.code, matters.c.name, matters.c.form_schema, matters.c.process,
                       matters.c.applicants).where(
    matters.c.code == bindparam("code"), matters.c.active.is_(True))
FORM_SCHEMA = select(matters.c.form_schema).where(matters.c.id == bindparam("matter_id"))
NEXT_NUMBER = {
    dialect: insert_(DailyCounter).values(day=bindparam("day"), last=1)
    .on_conflict_do_update(index_elements=["day"], set_={"last": DailyCounter.last + 1})
    .returning(DailyCounter.last)
    for dialect, insert_ in (("postgresql", pg_insert), ("sqlite", sqlite_insert))
}

_APPLICATION_STATE = ("status", "current_node", "round", "form", "chosen_approvers", "updated_at", "finished_at")
TASK_COLUMNS = ("application_id", "round", "node_index", "node_key", "assignee_id", "kind", "parent_task_id", "status",
                "decision", "opinion", "created_at", "decided_at", "version")
RECORD_COLUMNS = ("application_id", "task_id", "round", "node_key", "node_name", "actor_id", "action", "opinion",
                  "detail", "created_at")
OUTBOX_COLUMNS = ("event", "recipient_id", "application_id", "task_id", "payload", "status", "attempts",
                  "created_at", "next_attempt_at")


def _decide_task(p: str) -> Update:
    """The decided task, guarded by the state it was read in (parameters named ``{p}…``)."""
    return (
        update(tasks)
        .where(tasks.c.id == bindparam(f"{p}id"), tasks.c.status == bindparam(f"{p}was"))
        .values(status=bindparam(f"{p}status"), decision=bindparam(f"{p}decision"),
                opinion=bindparam(f"{p}opinion"), decided_at=bindparam(f"{p}decided_at"),
                version=tasks.c.version + 1)
    )


def _move_tasks(p: str) -> Update:
    """Tasks moved from one state to another (cancelled, waiting, pending again), guarded."""
    return (
        update(tasks)
        .where(tasks.c.id.in_(bindparam(f"{p}ids", expanding=True)), tasks.c.status == bindparam(f"{p}was"))
        .values(status=bindparam(f"{p}status"), version=tasks.c.version + 1)
    )


def _update_application(p: str) -> Update:
    """The application's state, guarded by the version it was read at."""
    return (
        update(applications)
        .where(applications.c.id == bindparam(f"{p}id"), applications.c.version == bindparam(f"{p}version"))
        .values(**{name: bindparam(f"{p}{name}") for name in _APPLICATION_STATE}, version=applications.c.version + 1)
    )


def _unnested(table: Table, columns: tuple[str, ...], prefix: str, **more: Any) -> Any:
    """Rows from arrays, one parameter ``{prefix}{column}`` per column (typed like the
    table's column, or as given in ``more``), numbered in ``row_number``: any number of rows
    in one cacheable statement (PostgreSQL)."""
    arrays = [bindparam(f"{prefix}{name}", type_=ARRAY(table.c[name].type)) for name in columns]
    arrays += [bindparam(f"{prefix}{name}", type_=ARRAY(type_)) for name, type_ in more.items()]
    return func.unnest(*arrays).table_valued(*columns, *more, with_ordinality="row_number").render_derived()


def _insert_unnested(table: Table, columns: tuple[str, ...], prefix: str, **more: Any) -> Insert:
    """INSERT … SELECT FROM unnest(…) ORDER BY the rows' order, so ids follow it (arrays in
    ``more`` are read but not inserted)."""
    rows = _unnested(table, columns, prefix, **more)
    return insert(table).from_select(columns, select(*[rows.c[name] for name in columns]).order_by(rows.c.row_number))


def _insert_outbox(new_tasks: Optional[CTE]) -> Insert:
    """Outbox rows; a row about a task created by the same statement names it by position
    (``new_task``, 1-based) and gets its id from ``new_tasks``, whose ids follow row order."""
    if new_tasks is None:
        return _insert_unnested(outbox, OUTBOX_COLUMNS, "o_", new_task=Integer())
    rows = _unnested(outbox, OUTBOX_COLUMNS, "o_", new_task=Integer())
    numbered = select(new_tasks.c.id, func.row_number().over(order_by=new_tasks.c.id).label("position")).subquery()
    values = [func.coalesce(rows.c.task_id, numbered.c.id) if name == "task_id" else rows.c[name]
              for name in OUTBOX_COLUMNS]
    return insert(outbox).from_select(OUTBOX_COLUMNS, select(*values).select_from(
        rows.outerjoin(numbered, numbered.c.position == rows.c.new_task)).order_by(rows.c.row_number))


DECIDE_TASK = _decide_task("b_")
MOVE_TASKS = _move_tasks("b_")
UPDATE_APPLICATION = _update_application("b_")
INSERT_APPLICATION = insert(applications).returning(applications.c.id)
INSERT_TASKS = insert(tasks).returning(tasks.c.id, sort_by_parameter_order=True)
INSERT_RECORDS = insert(flow_records)
INSERT_OUTBOX = insert(outbox)


OUTBOX_DEFAULTS = {"status": "pending", "attempts": 0}
_ONE_BY_ONE = {"decide": DECIDE_TASK, "move": MOVE_TASKS, "application": UPDATE_APPLICATION}
_BUILDERS = {"decide": _decide_task, "move": _move_tasks, "application": _update_application}


@lru_cache(maxsize=256)
def _at_once(kinds: tuple[str, ...], new_tasks: bool, records: bool, outbox_rows: bool) -> Select:
    """One statement for all of a command's writes (PostgreSQL): each guarded update a CTE
    whose matched rows are counted, the inserts CTEs (they run whether read or not), the new
    tasks' ids returned in order. Built once per shape, so SQLAlchemy's cache key and compiled
    form are reused."""
    guarded = [_BUILDERS[kind](f"g{index}_") for index, kind in enumerate(kinds)]
    ctes = [statement.returning(statement.table.c.id).cte(f"guarded{index}") for index, statement in enumerate(guarded)]
    columns = [select(func.count()).select_from(cte).scalar_subquery() for cte in ctes]
    inserted = _insert_unnested(tasks, TASK_COLUMNS, "t_").returning(tasks.c.id).cte("new_tasks") if new_tasks else None
    if inserted is not None:
        columns.append(select(func.array_agg(aggregate_order_by(inserted.c.id, inserted.c.id))).scalar_subquery())
    inserts = []
    if records:
        inserts.append(_insert_unnested(flow_records, RECORD_COLUMNS, "r_").cte("new_records"))
    if outbox_rows:
        inserts.append(_insert_outbox(inserted).cte("new_outbox"))
    return select(*columns or [literal(0)]).add_cte(*inserts)


def _guarded(changes: Changes) -> list[tuple[str, dict[str, Any], int]]:
    """The guarded updates as (kind, parameters, rows they must match)."""
    updates = [
        ("decide", {"id": task.id, "was": was, "status": task.status, "decision": task.decision,
                    "opinion": task.opinion, "decided_at": task.decided_at}, 1)
        for task, was in changes.decided.values()
    ]
    groups: dict[tuple[str, str], list[int]] = {}
    for task, was in changes.moved.values():
        groups.setdefault((was, task.status), []).append(task.id)
    updates += [("move", {"ids": ids, "was": was, "status": status}, len(ids)) for (was, status), ids in groups.items()]
    updates += [
        ("application", {"id": application.id, "version": application.version,
                         **{name: getattr(application, name) for name in _APPLICATION_STATE}}, 1)
        for application in changes.applications.values()
    ]
    return updates


def _task_values(task: TaskRow) -> dict[str, Any]:
    return {"application_id": task.application_id, "round": task.round, "node_index": task.node_index,
            "node_key": task.node_key, "assignee_id": task.assignee.id, "kind": task.kind,
            "parent_task_id": task.parent_task_id, "status": task.status, "decision": task.decision,
            "opinion": task.opinion, "created_at": task.created_at, "decided_at": task.decided_at, "version": 1}


def _outbox_values(row: dict[str, Any], task: Optional[TaskRow]) -> dict[str, Any]:
    return {**OUTBOX_DEFAULTS, **row, "task_id": task.id if task else None}


def _expect(expected: int, matched: int) -> None:
    """A guarded update that matched fewer rows than read under the lock lost a race."""
    if matched != expected:
        raise Conflict("concurrent_change", "该任务或申请刚被他人处理,请刷新后再试")


class Repository:
    """Reads and writes of one command, on its unit of work's connection."""

    def __init__(self, connection: AsyncConnection, org: OrgDirectory):
        self.connection = connection
        self.org = org

    @classmethod
    async def of(cls, session: AsyncSession) -> "Repository":
        return cls(await session.connection(), OrgDirectory(session))

    async def active_matter(self, code: str) -> Optional[MatterRow]:
        row = (await self.connection.execute(ACTIVE_MATTER, {"code": code})).first()
        return MatterRow(*row) if row else None

    async def form_schema(self, matter_id: int) -> list[dict[str, Any]]:
        return (await self.connection.execute(FORM_SCHEMA, {"matter_id": matter_id})).scalar_one()

    async def next_number(self, day: str) -> int:
        """The day's next application number, counted in one upsert: no two writers get the same."""
        statement = NEXT_NUMBER[self.connection.dialect.name]
        return (await self.connection.execute(statement, {"day": day})).scalar_one()

    async def lock_case_of_task(self, task_id: int, assignee_id: int) -> Optional[Case]:
        """The case of a task assigned to ``assignee_id``, its application locked; None if
        there is no such task (not found and not yours look the same)."""
        return await self._case(LOCK_CASE_OF_TASK, {"task_id": task_id, "assignee_id": assignee_id})

    async def lock_case(self, application_id: int) -> Optional[Case]:
        return await self._case(LOCK_CASE, {"application_id": application_id})

    async def _case(self, statement: Any, params: dict[str, Any]) -> Optional[Case]:
        row = (await self.connection.execute(statement, params)).first()
        if row is None:
            return None
        application = ApplicationRow(*row[:len(_APPLICATION_COLUMNS)])
        code, name, username, applicant_name, department_id, department_name = row[len(_APPLICATION_COLUMNS):]
        applicant = Applicant(application.applicant_id, username, applicant_name, department_id, department_name)
        return Case(application, code, name, applicant, await self.tasks_of(application.id))

    async def tasks_of(self, application_id: int) -> list[TaskRow]:
        rows = await self.connection.execute(CASE_TASKS, {"application_id": application_id})
        return [
            TaskRow(application_id=r.application_id, round=r.round, node_index=r.node_index, node_key=r.node_key,
                    assignee=Person(r.assignee_id, r.username, r.name), kind=r.kind,
                    parent_task_id=r.parent_task_id, status=r.status, created_at=as_utc(r.created_at),
                    decision=r.decision, opinion=r.opinion,
                    decided_at=as_utc(r.decided_at) if r.decided_at else None, id=r.id)
            for r in rows
        ]

    async def last_record_at(self, application_id: int, action: str, round_: int, node_key: str) -> Optional[datetime]:
        """When ``action`` was last recorded at the node in this round (催办's interval)."""
        value = (await self.connection.execute(LAST_RECORD_AT, {
            "application_id": application_id, "action": action, "round": round_, "node_key": node_key})).scalar()
        return as_utc(value) if value is not None else None

    async def files(self, ids: list[int]) -> dict[int, FileRow]:
        ids = [i for i in ids if 0 < i <= MAX_ID]  # a larger one names nothing (and PostgreSQL refuses it)
        if not ids:
            return {}
        rows = await self.connection.execute(FILES, {"ids": ids})
        return {row.id: FileRow(row.id, row.owner_id, row.application_id, row.original_name) for row in rows}

    async def insert_application(self, application: ApplicationRow) -> None:
        values = {name: getattr(application, name) for name in ApplicationRow.__dataclass_fields__ if name != "id"}
        application.id = (await self.connection.execute(INSERT_APPLICATION, values)).scalar_one()

    async def write(self, changes: Changes) -> None:
        """Send the changes: new tasks, the guarded updates of tasks and applications, flow
        records, outbox rows (which may name the new tasks). On PostgreSQL that is one
        statement of data-modifying CTEs — a round trip costs an approval more than anything
        else there; elsewhere one statement per kind, executemany for rows. Either way a guard
        that matches fewer rows than expected fails the command."""
        guarded = _guarded(changes)
        if self.connection.dialect.name == "postgresql":
            await self._write_at_once(guarded, changes)
        else:
            await self._write_one_by_one(guarded, changes)
        if changes.cc:  # rare, so a statement of its own
            await self.connection.execute(INSERT_CC[self.connection.dialect.name], changes.cc)
        # A resubmission's files its new form no longer names (rare, so a statement of its own;
        # an attachment refused below fails the command and the transaction undoes this too)
        for application_id, kept in changes.detach_unnamed.items():
            await self.connection.execute(DETACH, {"b_application_id": application_id, "b_kept": kept})
        for attached in changes.attached:  # a few per submission at most
            matched = (await self.connection.execute(ATTACH, {
                "b_id": attached.id, "b_owner_id": attached.owner_id, "b_application_id": attached.application_id,
            })).rowcount
            if matched != 1:  # another submission attached it since it was read
                raise Conflict("attachment_taken", f"附件「{attached.name}」刚被用于另一份申请,请重新上传")
        for application in changes.applications.values():
            application.version += 1

    async def _write_one_by_one(self, guarded: list[tuple[str, dict[str, Any], int]], changes: Changes) -> None:
        if changes.new_tasks:
            rows = [_task_values(task) for task in changes.new_tasks]
            ids = (await self.connection.execute(INSERT_TASKS, rows)).scalars().all()
            for task, task_id in zip(changes.new_tasks, ids):
                task.id = task_id
        for kind, params, expected in guarded:
            _expect(expected, (await self.connection.execute(
                _ONE_BY_ONE[kind], {f"b_{key}": value for key, value in params.items()})).rowcount)
        if changes.records:
            await self.connection.execute(INSERT_RECORDS, changes.records)
        if changes.outbox:
            await self.connection.execute(INSERT_OUTBOX, [_outbox_values(row, task) for row, task in changes.outbox])

    async def _write_at_once(self, guarded: list[tuple[str, dict[str, Any], int]], changes: Changes) -> None:
        new, records = changes.new_tasks, changes.records
        statement = _at_once(tuple(kind for kind, _, _ in guarded), bool(new), bool(records), bool(changes.outbox))
        params: dict[str, Any] = {}
        for index, (_, values, _) in enumerate(guarded):
            params.update({f"g{index}_{key}": value for key, value in values.items()})
        position = {id(task): number for number, task in enumerate(new, 1)}
        outbox_rows = [{**_outbox_values(row, task), "new_task": position.get(id(task)) if task else None}
                       for row, task in changes.outbox]
        for prefix, columns, rows in (("t_", TASK_COLUMNS, [_task_values(task) for task in new]),
                                      ("r_", RECORD_COLUMNS, records),
                                      ("o_", (*OUTBOX_COLUMNS, "new_task"), outbox_rows)):
            if rows:
                params.update({f"{prefix}{name}": [row[name] for row in rows] for name in columns})
        counts = list((await self.connection.execute(statement, params)).one())
        if new:
            for task, task_id in zip(new, counts.pop()):
                task.id = task_id
        for (_, _, expected), count in zip(guarded, counts):
            _expect(expected, count)
