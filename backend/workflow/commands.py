"""The workflow's commands: what someone asks it to do, one small frozen dataclass each.

They arrive parsed: the web layer (``web/parse.py``) turns JSON bodies and posted forms
into them and refuses what has the wrong type or size. What they mean — may this user
decide this task, is the matter open, who approves next — the handlers in ``engine.py``
decide. ``Command[R]`` says what handling one returns.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic, Optional, TypeVar

from ..db.rows import ApplicationRow, Case, TaskRow

R = TypeVar("R")


class Command(Generic[R]):
    """A command whose handler returns an ``R``."""

    __slots__ = ()


@dataclass(frozen=True)
class Decision:
    """What a decision did, with the rows in hand for the caller's answer."""

    case: Case
    task: TaskRow


@dataclass(frozen=True)
class Submit(Command[ApplicationRow]):
    matter_code: str
    form: dict[str, Any]
    approvers: dict[str, str]  # 选择审核人: node key → username


@dataclass(frozen=True)
class Resubmit(Command[ApplicationRow]):
    """After a return (退回); a form or approvers left out stay as they were."""

    application_id: int
    form: Optional[dict[str, Any]] = None
    approvers: Optional[dict[str, str]] = None


@dataclass(frozen=True)
class Approve(Command[Decision]):
    task_id: int
    opinion: str = ""


@dataclass(frozen=True)
class Return(Command[Decision]):
    task_id: int
    opinion: str


@dataclass(frozen=True)
class AddSigners(Command[Decision]):
    """加签: ask others for their opinion before deciding."""

    task_id: int
    usernames: tuple[str, ...]
    opinion: str = ""


@dataclass(frozen=True)
class Sign(Command[Decision]):
    """An added signer's opinion."""

    task_id: int
    opinion: str
    agree: bool


@dataclass(frozen=True)
class Terminate(Command[list[ApplicationRow]]):
    """终止: the applicant ends their applications."""

    application_ids: tuple[int, ...]
    reason: str = ""
