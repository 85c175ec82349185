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
    cc: tuple[str, ...] = ()  # 抄送 by the applicant: usernames


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
    cc: tuple[str, ...] = ()  # 抄送 by the approver: usernames


@dataclass(frozen=True)
class Return(Command[Decision]):
    """退回: to the applicant, or (``to_node``, a node key) to a node the application has passed."""

    task_id: int
    opinion: str
    to_node: Optional[str] = None


@dataclass(frozen=True)
class Transfer(Command[Decision]):
    """转办: the task becomes ``to``'s; the original assignee's is done as 转办."""

    task_id: int
    to: str
    opinion: str = ""


@dataclass(frozen=True)
class Delegate(Command[Decision]):
    """委派: ``to`` handles it (gives an opinion), then it comes back to the delegator to decide."""

    task_id: int
    to: str
    opinion: str = ""


@dataclass(frozen=True)
class AddSigners(Command[Decision]):
    """加签: ``before`` (前加签), ask others for their opinion before deciding; ``after``
    (后加签), approve and have them approve the node after."""

    task_id: int
    usernames: tuple[str, ...]
    opinion: str = ""
    when: str = "before"


@dataclass(frozen=True)
class RemoveSigners(Command[Decision]):
    """减签: take back signers one added who have not decided yet."""

    task_id: int
    usernames: tuple[str, ...]


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


@dataclass(frozen=True)
class Timeout(Command[Decision]):
    """A node's timeout rule on a task left pending (the notifier's periodic job, as the system):
    remind its holder, or approve or return it for them."""

    task_id: int


@dataclass(frozen=True)
class Withdraw(Command[ApplicationRow]):
    """撤回: the applicant takes a running application back, before anyone decided at its
    current node, to edit and resubmit it (not a termination)."""

    application_id: int
    reason: str = ""


@dataclass(frozen=True)
class Comment(Command[ApplicationRow]):
    """备注: a remark in the flow records by the applicant or a participant; no state change."""

    application_id: int
    text: str


@dataclass(frozen=True)
class CarbonCopy(Command[ApplicationRow]):
    """抄送 by the applicant or a participant, any time before the application is finished."""

    application_id: int
    usernames: tuple[str, ...]


@dataclass(frozen=True)
class Remind(Command[ApplicationRow]):
    """催办: the current assignees are reminded, at most once per node per ``REMIND_EVERY``."""

    application_id: int
