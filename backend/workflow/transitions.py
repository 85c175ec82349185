"""The whole workflow on one screen: which move is allowed from which state.

Every state change the handlers in ``engine.py`` make goes through ``application_after`` /
``task_after``; a move missing from these tables raises ``Conflict`` instead of
being silently ignored.
"""
from __future__ import annotations

from ..errors import Conflict

# Application states
RUNNING, RETURNED, APPROVED, TERMINATED = "running", "returned", "approved", "terminated"
APPLICATION_STATES = (RUNNING, RETURNED, APPROVED, TERMINATED)
FINISHED_APPLICATION_STATES = (APPROVED, TERMINATED)

# Task states
PENDING, WAITING, DONE, CANCELLED = "pending", "waiting", "done", "cancelled"
OPEN_TASK_STATES = (PENDING, WAITING)

# Task kinds: an approver's task; an added signer's (加签) or a delegate's (委派) opinion,
# after which the approver's task comes back to them
APPROVAL, SIGNER, DELEGATE = "approval", "signer", "delegate"

APPLICATION_TRANSITIONS: dict[tuple[str, str], str] = {
    (RUNNING, "advance"): RUNNING,  # a node completed, the next one starts
    (RUNNING, "finish"): APPROVED,  # the last node completed
    (RUNNING, "return"): RETURNED,
    (RUNNING, "withdraw"): RETURNED,  # 撤回: the applicant takes it back to edit and resubmit
    (RUNNING, "send_back"): RUNNING,  # 退回到某个已经过的环节
    (RUNNING, "comment"): RUNNING,  # 备注 and 催办 change nothing but are allowed only here
    (RETURNED, "comment"): RETURNED,
    (RUNNING, "cc"): RUNNING,
    (RETURNED, "cc"): RETURNED,
    (RUNNING, "remind"): RUNNING,
    (RUNNING, "remove_signers"): RUNNING,
    (RUNNING, "terminate"): TERMINATED,
    (RETURNED, "resubmit"): RUNNING,
    (RETURNED, "terminate"): TERMINATED,
}

# (kind, state, move) -> new state
TASK_TRANSITIONS: dict[tuple[str, str, str], str] = {
    (APPROVAL, PENDING, "approve"): DONE,
    (APPROVAL, PENDING, "return"): DONE,
    (APPROVAL, PENDING, "add_signers"): WAITING,
    (APPROVAL, PENDING, "delegate"): WAITING,
    (APPROVAL, PENDING, "transfer"): DONE,  # the new assignee gets a task of their own
    (APPROVAL, PENDING, "add_signers_after"): DONE,  # 同意并后加签: the signers approve after
    (APPROVAL, WAITING, "signers_done"): PENDING,
    (APPROVAL, PENDING, "cancel"): CANCELLED,
    (APPROVAL, WAITING, "cancel"): CANCELLED,
    (SIGNER, PENDING, "sign"): DONE,
    (SIGNER, PENDING, "cancel"): CANCELLED,
    (DELEGATE, PENDING, "sign"): DONE,
    (DELEGATE, PENDING, "cancel"): CANCELLED,
}

_OPINION_ONLY = {SIGNER: "加签人员只能给出意见,不能执行该操作", DELEGATE: "受委派人员只能给出意见,不能执行该操作"}
_TASK_STATE_MESSAGES = {
    DONE: "该任务已经办理过了,不能重复办理",
    CANCELLED: "该任务已被取消(流程已结束或已被他人处理)",
    WAITING: "该任务正在等待加签或受委派人员给出意见",
}


def application_after(state: str, move: str) -> str:
    try:
        return APPLICATION_TRANSITIONS[(state, move)]
    except KeyError:
        raise Conflict(
            "application_state",
            f"申请当前状态为「{STATUS_LABELS.get(state, state)}」,不能执行该操作",
            {"status": state, "move": move},
        ) from None


def task_after(kind: str, state: str, move: str) -> str:
    try:
        return TASK_TRANSITIONS[(kind, state, move)]
    except KeyError:
        if state == PENDING:
            message = _OPINION_ONLY.get(kind, "该任务不能执行该操作")
        else:
            message = _TASK_STATE_MESSAGES.get(state, "该任务当前不能办理")
        raise Conflict("task_state", message, {"status": state, "move": move}) from None


STATUS_LABELS = {
    RUNNING: "审批中",
    RETURNED: "已退回",
    APPROVED: "已通过",
    TERMINATED: "已终止",
    PENDING: "待办",
    WAITING: "等待加签意见",
    DONE: "已办",
    CANCELLED: "已取消",
}
