"""Request bodies → the workflow's typed commands, for the API and the pages alike.

Types and sizes are checked here, at the edge, with the error codes clients know
(``matter_required``, ``opinion_required``, ``signers_required``, ``ids_required`` …);
what a command means — may this user decide this task, is the matter open — the workflow's
handlers decide.
"""
from __future__ import annotations

from datetime import date
from typing import Any, Callable, Mapping, Optional

from ..errors import InvalidInput, NotFound
from ..workflow.commands import (
    AddSigners,
    Approve,
    CarbonCopy,
    Command,
    Comment,
    Decision,
    Delegate,
    Remind,
    RemoveSigners,
    Resubmit,
    Return,
    Sign,
    Submit,
    Terminate,
    Transfer,
    Withdraw,
)
from ..read.tasks import DECISIONS as DONE_DECISIONS, TaskFilter
from .jsonio import MAX_ID, storable

MAX_OPINION = 2000
MAX_SIGNERS = 10
MAX_TERMINATE = 100
MAX_KEY = 64  # a username or a node key
MAX_MATTERS = 10  # matter codes in one task-list filter
MAX_CC = 20


def opinion(text: Any, *, required: bool) -> str:
    if text is None:
        text = ""
    if not isinstance(text, str):
        raise InvalidInput("opinion_invalid", "意见应为文字")
    if not storable(text):  # the pages' form fields are not JSON: checked here for both
        raise InvalidInput("opinion_invalid", "意见含有无法识别的字符")
    text = text.strip()
    if required and not text:
        raise InvalidInput("opinion_required", "请填写意见")
    if len(text) > MAX_OPINION:
        raise InvalidInput("opinion_too_long", f"意见不能超过 {MAX_OPINION} 个字")
    return text


def _form(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise InvalidInput("form_invalid", "表单数据应为对象", {"fields": {}})
    return value


def _approvers(value: Any) -> dict[str, str]:
    """选择审核人: {node key: username}; nothing chosen is an empty choice."""
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(isinstance(v, str) and storable(v) for v in value.values()):
        raise InvalidInput("approvers_invalid", "approvers 应为 {节点: 用户名} 的对象")
    return value


def submit(body: dict[str, Any]) -> Submit:
    matter = body.get("matter")
    if not isinstance(matter, str) or not matter:
        raise InvalidInput("matter_required", "请指定要办理的事项(matter)")
    return Submit(matter, _form(body.get("form")), _approvers(body.get("approvers")), _cc(body.get("cc")))


def resubmit(application_id: int, body: dict[str, Any]) -> Resubmit:
    form, approvers = body.get("form"), body.get("approvers")
    return Resubmit(application_id, None if form is None else _form(form),
                    None if approvers is None else _approvers(approvers))


def _signers(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not value or not all(isinstance(u, str) and u for u in value):
        raise InvalidInput("signers_required", "请选择至少一位加签人员(users)")
    if not all(storable(u) for u in value):
        raise InvalidInput("signers_required", "加签人员的用户名含有无法识别的字符")
    usernames = tuple(dict.fromkeys(value))
    if len(usernames) > MAX_SIGNERS:
        raise InvalidInput("too_many_signers", f"一次最多加签 {MAX_SIGNERS} 人")
    return usernames


def _agree(value: Any) -> bool:
    if not isinstance(value, bool):
        raise InvalidInput("agree_required", "请说明是否同意(agree: true/false)")
    return value


def _cc(value: Any) -> tuple[str, ...]:
    """抄送: usernames, none by default."""
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(u, str) and u and storable(u) for u in value):
        raise InvalidInput("cc_invalid", "抄送人员(cc)应为用户名列表")
    usernames = tuple(dict.fromkeys(value))
    if len(usernames) > MAX_CC:
        raise InvalidInput("too_many_cc", f"一次最多抄送 {MAX_CC} 人")
    return usernames


def _approve(task_id: int, body: dict[str, Any]) -> Approve:
    return Approve(task_id, opinion(body.get("opinion"), required=False), _cc(body.get("cc")))


def _key(value: Any, code: str, message: str) -> str:
    """A username or a node key: a short non-empty string."""
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_KEY or not storable(value):
        raise InvalidInput(code, message)
    return value.strip()


def _return(task_id: int, body: dict[str, Any]) -> Return:
    to_node: Optional[str] = body.get("to_node")
    if to_node is not None:  # absent or null: back to the applicant
        to_node = _key(to_node, "to_node_invalid", "to_node 应为要退回到的环节(节点 key)")
    return Return(task_id, opinion(body.get("opinion"), required=True), to_node)


def _to(body: dict[str, Any]) -> str:
    return _key(body.get("to"), "to_required", "请指定接收人(to,用户名)")


def _transfer(task_id: int, body: dict[str, Any]) -> Transfer:
    return Transfer(task_id, _to(body), opinion(body.get("opinion"), required=False))


def _delegate(task_id: int, body: dict[str, Any]) -> Delegate:
    return Delegate(task_id, _to(body), opinion(body.get("opinion"), required=False))


def _add_signers(task_id: int, body: dict[str, Any]) -> AddSigners:
    text = opinion(body.get("opinion"), required=False)
    when = body.get("when", "before")
    if when not in ("before", "after"):
        raise InvalidInput("when_invalid", "when 应为 before(前加签)或 after(后加签)")
    return AddSigners(task_id, _signers(body.get("users")), text, when)


def _remove_signers(task_id: int, body: dict[str, Any]) -> RemoveSigners:
    return RemoveSigners(task_id, _signers(body.get("users")))


def _sign(task_id: int, body: dict[str, Any]) -> Sign:
    text = opinion(body.get("opinion"), required=True)
    return Sign(task_id, text, _agree(body.get("agree", True)))


DECISIONS: dict[str, Callable[[int, dict[str, Any]], Command[Decision]]] = {
    "approve": _approve, "return": _return, "add_signers": _add_signers, "sign": _sign,
    "transfer": _transfer, "delegate": _delegate, "remove_signers": _remove_signers,
}


def decision(move: str, task_id: int, body: dict[str, Any]) -> Command[Decision]:
    """同意 / 退回 / 加签 / 转办 / 委派 / an added signer's or a delegate's opinion on a task."""
    return DECISIONS[move](task_id, body)


def terminate(body: dict[str, Any]) -> Terminate:
    reason = opinion(body.get("reason"), required=False)
    ids = body.get("ids")
    if not isinstance(ids, list) or not ids or not all(isinstance(i, int) and not isinstance(i, bool) for i in ids):
        raise InvalidInput("ids_required", "请指定要终止的申请(ids)")
    if len(ids) > MAX_TERMINATE:
        raise InvalidInput("too_many_ids", f"一次最多终止 {MAX_TERMINATE} 个申请")
    unheld = next((i for i in ids if not 0 < i <= MAX_ID), None)
    if unheld is not None:  # no application has it, like any other unknown id
        raise NotFound("application_not_found", f"没有找到申请 {unheld}")
    return Terminate(tuple(ids), reason)


def withdraw(application_id: int, body: dict[str, Any]) -> Withdraw:
    return Withdraw(application_id, opinion(body.get("reason"), required=False))


def comment(application_id: int, body: dict[str, Any]) -> Comment:
    text = body.get("text")
    if text is None or (isinstance(text, str) and not text.strip()):
        raise InvalidInput("text_required", "请填写备注内容(text)")
    return Comment(application_id, opinion(text, required=True))


def remind(application_id: int, body: dict[str, Any]) -> Remind:
    return Remind(application_id)


def carbon_copy(application_id: int, body: dict[str, Any]) -> CarbonCopy:
    usernames = _cc(body.get("users"))
    if not usernames:
        raise InvalidInput("cc_invalid", "请指定抄送人员(users,用户名列表)")
    return CarbonCopy(application_id, usernames)


def task_filter(query: Mapping[str, str], status: str) -> TaskFilter:
    """A task list's query (API and the 已办 page): matter=staff_leave,student_leave; for 已办 (``done``) also
    decision=approve,agree and decided_from / decided_to (YYYY-MM-DD, inclusive). Empty means absent."""
    values = {name: (query.get(name) or "").strip() for name in ("matter", "decision", "decided_from", "decided_to")}
    if status != "done" and any(values[name] for name in ("decision", "decided_from", "decided_to")):
        raise InvalidInput("bad_query", "decision / decided_from / decided_to 只能用于已办(status=done)")
    decisions = tuple(d for d in values["decision"].split(",") if d)
    if any(d not in DONE_DECISIONS for d in decisions):
        raise InvalidInput("bad_query", "decision 应为 " + " / ".join(DONE_DECISIONS) + " 之一(可用逗号分隔多个)")
    start, end = _day(values, "decided_from"), _day(values, "decided_to")
    if start and end and start > end:
        raise InvalidInput("bad_query", "decided_from 不能晚于 decided_to")
    matters = tuple(dict.fromkeys(m for m in values["matter"].split(",") if m))
    if len(matters) > MAX_MATTERS or any(len(m) > MAX_KEY for m in matters):
        raise InvalidInput("bad_query", f"matter 过长(至多 {MAX_MATTERS} 个事项代码,逗号分隔)")
    return TaskFilter(matters, decisions, start, end)


def _day(values: dict[str, str], name: str) -> Optional[date]:
    if not values[name]:
        return None
    try:
        return date.fromisoformat(values[name])
    except ValueError:
        raise InvalidInput("bad_query", f"参数 {name} 应为日期 YYYY-MM-DD") from None
