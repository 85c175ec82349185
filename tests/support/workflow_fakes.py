"""An in-memory repository and org chart for the engine's unit tests: the rows a database
would hold, handed out as copies, changed only by ``write`` — so a command that fails
half-way leaves them as they were, as a rolled-back transaction would."""
from __future__ import annotations

from copy import copy
from dataclasses import dataclass, field
from typing import Any, Iterable, Optional

from backend.db.rows import Applicant, ApplicationRow, Case, Changes, FileRow, MatterRow, TaskRow
from backend.errors import Conflict

HEAD_ROLE = "部门负责人"


@dataclass(frozen=True)
class Member:
    id: int
    username: str
    name: str
    department_id: int
    kind: str = "staff"


@dataclass
class FakeOrg:
    """People, their roles, and the departments' ids by code."""

    people: list[Member]
    roles: dict[str, set[str]] = field(default_factory=dict)
    departments: dict[str, int] = field(default_factory=dict)

    def member(self, username: str) -> Member:
        return next(m for m in self.people if m.username == username)

    async def users_by_username(self, usernames: Iterable[str]) -> dict[str, Member]:
        wanted = set(usernames)
        return {m.username: m for m in self.people if m.username in wanted}

    async def users_with_role(self, role: str, department_id: int) -> list[Member]:
        return [m for m in self.people if m.department_id == department_id and role in self.roles.get(m.username, ())]

    async def users_with_role_at(self, role: str, department_code: str) -> list[Member]:
        department_id = self.departments.get(department_code)
        return [] if department_id is None else await self.users_with_role(role, department_id)

    async def department_head(self, department_id: int, exclude_user_id: int) -> list[Member]:
        """The head of the department itself (the database's directory also walks up to its parents)."""
        return [m for m in await self.users_with_role(HEAD_ROLE, department_id) if m.id != exclude_user_id]

    async def roles_of(self, user_ids: Iterable[int]) -> dict[int, list[str]]:
        return {m.id: sorted(self.roles.get(m.username, ())) for m in self.people if m.id in set(user_ids)}


class FakeRepository:
    def __init__(self, org: FakeOrg, matters: list[MatterRow]):
        self.org = org
        self.matters = {m.code: m for m in matters}
        self.applications: dict[int, ApplicationRow] = {}
        self.tasks: dict[int, TaskRow] = {}
        self.records: list[dict[str, Any]] = []
        self.outbox: list[dict[str, Any]] = []
        self.cc: dict[tuple[int, int], dict[str, Any]] = {}
        self.counters: dict[str, int] = {}
        self.uploads: dict[int, FileRow] = {}
        self._inserted: list[ApplicationRow] = []

    def upload(self, owner: str, name: str) -> int:
        """A file ``owner`` uploaded (not attached yet); its id."""
        file_id = len(self.uploads) + 1
        self.uploads[file_id] = FileRow(file_id, self.org.member(owner).id, None, name)
        return file_id

    # ------------------------------------------------------------ reads

    async def active_matter(self, code: str) -> Optional[MatterRow]:
        return self.matters.get(code)

    async def form_schema(self, matter_id: int) -> list[dict[str, Any]]:
        return next(m.form_schema for m in self.matters.values() if m.id == matter_id)

    async def next_number(self, day: str) -> int:
        self.counters[day] = self.counters.get(day, 0) + 1
        return self.counters[day]

    async def files(self, ids: list[int]) -> dict[int, FileRow]:
        return {i: copy(self.uploads[i]) for i in ids if i in self.uploads}

    async def lock_case(self, application_id: int) -> Optional[Case]:
        application = self.applications.get(application_id)
        if application is None:
            return None
        matter = next(m for m in self.matters.values() if m.id == application.matter_id)
        who = next(m for m in self.org.people if m.id == application.applicant_id)
        tasks = [copy(x) for x in self.tasks.values() if x.application_id == application_id]
        return Case(copy(application), matter.code, matter.name,
                    Applicant(who.id, who.username, who.name, who.department_id), tasks)

    async def lock_case_of_task(self, task_id: int, assignee_id: int) -> Optional[Case]:
        task = self.tasks.get(task_id)
        if task is None or task.assignee_id != assignee_id:
            return None
        return await self.lock_case(task.application_id)

    async def last_record_at(self, application_id: int, action: str, round_: int, node_key: str) -> Optional[Any]:
        times = [r["created_at"] for r in self.records if (r["application_id"], r["action"], r["round"],
                                                           r["node_key"]) == (application_id, action, round_, node_key)]
        return max(times, default=None)

    # ------------------------------------------------------------ writes

    async def insert_application(self, application: ApplicationRow) -> None:
        application.id = len(self.applications) + len(self._inserted) + 1
        self._inserted.append(application)

    async def write(self, changes: Changes) -> None:
        """All or nothing, each update guarded by what it was read as, like the database's."""
        stored = {**self.applications, **{a.id: copy(a) for a in self._inserted}}
        for task, was in [*changes.decided.values(), *changes.moved.values()]:
            if self.tasks[task.id].status != was:
                raise Conflict("concurrent_change", "changed behind the lock's back")
        for application in changes.applications.values():
            if stored[application.id].version != application.version:
                raise Conflict("concurrent_change", "changed behind the lock's back")
        for found in changes.attached:  # attached elsewhere since it was read
            if self.uploads[found.id].application_id not in (None, found.application_id):
                raise Conflict("attachment_taken", f"附件「{found.name}」刚被用于另一份申请,请重新上传")
        self.applications = stored
        for task in changes.new_tasks:
            task.id = len(self.tasks) + 1
            self.tasks[task.id] = copy(task)
        for task, _ in [*changes.decided.values(), *changes.moved.values()]:
            self.tasks[task.id] = copy(task)
        for application in changes.applications.values():
            application.version += 1
            self.applications[application.id] = copy(application)
        self.records += changes.records
        for row in changes.cc:
            self.cc.setdefault((row["application_id"], row["user_id"]), row)
        self.outbox += [{**row, "task_id": task.id if task else None} for row, task in changes.outbox]
        for application_id, kept in changes.detach_unnamed.items():
            for row in self.uploads.values():
                if row.application_id == application_id and row.id not in kept:
                    row.application_id = None
        for found in changes.attached:
            self.uploads[found.id] = copy(found)
        self._inserted.clear()

    def rollback(self) -> None:
        """What no ``write`` committed is dropped, as a failed transaction's would be."""
        self._inserted.clear()
