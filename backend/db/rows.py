"""The rows a workflow command works on: one application locked with its tasks (a ``Case``),
and what the command changes (``Changes``), kept until the repository writes them.

Plain dataclasses, no SQL: the repository reads them and writes them back, the workflow's
handlers move them through the transition table, and the engine's unit tests build them
by hand.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Optional


@dataclass(frozen=True, slots=True)
class MatterRow:
    """What a submission needs of a matter: its form, its process and who may apply."""

    id: int
    code: str
    name: str
    form_schema: list[dict[str, Any]]
    process: list[dict[str, Any]]
    applicants: Optional[dict[str, Any]] = None  # everyone


@dataclass(frozen=True, slots=True)
class Person:
    """Who holds a task or applied: what answers and notifications show of them."""

    id: int
    username: str
    name: str


@dataclass(frozen=True, slots=True)
class Applicant(Person):
    department_id: int
    department_name: Optional[str] = None  # read with the case; not needed to submit


@dataclass(slots=True)
class ApplicationRow:
    id: Optional[int]  # None until inserted
    number: str
    matter_id: int
    applicant_id: int
    form: dict[str, Any]
    process: list[dict[str, Any]]
    chosen_approvers: dict[str, Any]
    status: str
    current_node: Optional[int]
    round: int
    created_at: datetime
    updated_at: datetime
    finished_at: Optional[datetime]
    version: int = 1


@dataclass(slots=True)
class TaskRow:
    application_id: int
    round: int
    node_index: int
    node_key: str
    assignee: Person
    kind: str
    parent_task_id: Optional[int]
    status: str
    created_at: datetime
    decision: Optional[str] = None
    opinion: Optional[str] = None
    decided_at: Optional[datetime] = None
    id: Optional[int] = None  # None until inserted

    @property
    def assignee_id(self) -> int:
        return self.assignee.id


@dataclass(slots=True)
class Case:
    """One application locked for a command, with all of its tasks (oldest first)."""

    application: ApplicationRow
    matter_code: str
    matter_name: str
    applicant: Applicant
    tasks: list[TaskRow]

    def task(self, task_id: int) -> TaskRow:
        return next(x for x in self.tasks if x.id == task_id)

    def seen_by(self, user_id: int) -> bool:
        """Whether the user may see it: the applicant, or someone who holds or held one of its
        tasks (the read side's rule, read/applications.py)."""
        return self.application.applicant_id == user_id or any(x.assignee_id == user_id for x in self.tasks)


@dataclass
class FileRow:
    """An uploaded file as a submission sees it: whose it is and what it is attached to."""

    id: int
    owner_id: int
    application_id: Optional[int]
    name: str


@dataclass
class Changes:
    """What a command changes, kept until ``Repository.write`` sends it in batches.

    A changed task is kept with the state it was read in: the guard of its update.
    Outbox rows may name a new task, whose id exists only once it is inserted."""

    decided: dict[int, tuple[TaskRow, str]] = field(default_factory=dict)
    moved: dict[int, tuple[TaskRow, str]] = field(default_factory=dict)
    applications: dict[int, ApplicationRow] = field(default_factory=dict)
    new_tasks: list[TaskRow] = field(default_factory=list)
    records: list[dict[str, Any]] = field(default_factory=list)
    outbox: list[tuple[dict[str, Any], Optional[TaskRow]]] = field(default_factory=list)
    cc: list[dict[str, Any]] = field(default_factory=list)  # 抄送 rows; one already there is kept
    attached: list[FileRow] = field(default_factory=list)  # uploaded files a submission attaches
    # application id → the files its resubmitted form names: its other attached files are detached
    detach_unnamed: dict[int, list[int]] = field(default_factory=dict)

    def task_decided(self, task: TaskRow, was: str) -> None:
        self.decided[task.id] = (task, was)

    def task_moved(self, task: TaskRow, was: str) -> None:
        """A new state only (cancelled, waiting, back to pending)."""
        if task.id is not None:  # a task created by this command is inserted in its final state
            self.moved.setdefault(task.id, (task, was))

    def application_changed(self, application: ApplicationRow) -> None:
        self.applications[application.id] = application
