"""Approver rules of a process node: who may decide it.

A node's ``approvers`` is one of
  {rule: users, users: [username, …]}
  {rule: role, role: 印章管理员, department: dzb | applicant}
  {rule: department_head}
  {rule: applicant_choice, candidates: <one of the rules above>}   # 选择审核人
and its optional ``cc`` (抄送 when the node is passed) one of the first three. Per-node rules:
  timeout: {hours: N, action: remind | approve | return}   # run by the notifier, as the system
  if_no_approver: skip | admin    # else the submission is refused; admin: the matter's ``admin``
  if_applicant_approves: skip     # else the applicant is left out of the node's approvers
"""
from __future__ import annotations

from typing import Any, Iterable, Mapping, Protocol

from ..errors import InvalidInput


class Applicant(Protocol):
    """What the rules need of an applicant: a user, or the applicant row of a case."""

    id: int
    department_id: int


class Member(Applicant, Protocol):
    """Someone the rules name: a user, or a member row of the org chart."""

    username: str
    name: str


class Org(Protocol):
    """The org chart lookups the rules make: ``db.org.OrgDirectory`` on a database, a few
    dicts in the engine's unit tests."""

    async def users_by_username(self, usernames: Iterable[str]) -> Mapping[str, Member]: ...

    async def users_with_role(self, role: str, department_id: int) -> list[Member]: ...

    async def users_with_role_at(self, role: str, department_code: str) -> list[Member]: ...

    async def department_head(self, department_id: int, exclude_user_id: int) -> list[Member]: ...

    async def roles_of(self, user_ids: Iterable[int]) -> dict[int, list[str]]: ...


RULES = ("users", "role", "department_head", "applicant_choice")
TIMEOUT_ACTIONS = ("remind", "approve", "return")
MODES = ("any", "all")  # 或签 | 会签


def check_node(node: Any, where: str) -> None:
    """Reject a malformed node when the matter is imported."""
    if not isinstance(node, dict) or not node.get("key") or not node.get("name"):
        raise ValueError(f"{where}: a node needs key and name")
    if node.get("mode", "any") not in MODES:
        raise ValueError(f"{where}: mode must be one of {MODES}")
    _check_rule(node.get("approvers"), f"{where}.approvers", nested=False)
    if "cc" in node:
        _check_rule(node["cc"], f"{where}.cc", nested=True)
    timeout = node.get("timeout")
    if timeout is not None and not (isinstance(timeout, dict) and timeout.get("action") in TIMEOUT_ACTIONS
                                    and isinstance(timeout.get("hours"), (int, float)) and timeout["hours"] >= 1):
        raise ValueError(f"{where}.timeout: needs hours (at least 1) and action one of {TIMEOUT_ACTIONS}")
    if node.get("if_no_approver") not in (None, "skip", "admin"):
        raise ValueError(f"{where}.if_no_approver: skip or admin")
    if node.get("if_no_approver") == "admin" and not node.get("admin"):
        raise ValueError(f"{where}.if_no_approver: admin needs the matter's admin")
    if node.get("if_applicant_approves") not in (None, "skip"):
        raise ValueError(f"{where}.if_applicant_approves: skip")


def _check_rule(rule: Any, where: str, *, nested: bool) -> None:
    kind = rule.get("rule") if isinstance(rule, dict) else None
    if kind not in RULES or (nested and kind == "applicant_choice"):
        raise ValueError(f"{where}: unknown approver rule {kind!r}")
    if kind == "users" and not rule.get("users"):
        raise ValueError(f"{where}: users rule needs a list of usernames")
    if kind == "role" and not (rule.get("role") and rule.get("department")):
        raise ValueError(f"{where}: role rule needs role and department")
    if kind == "applicant_choice":
        _check_rule(rule.get("candidates"), f"{where}.candidates", nested=True)


def is_applicant_choice(node: dict[str, Any]) -> bool:
    return node["approvers"]["rule"] == "applicant_choice"


async def candidates_for(rule: dict[str, Any], applicant: Applicant, org: Org, *,
                         with_applicant: bool = False) -> list[Member]:
    """Everyone the rule names, without the applicant (nobody approves their own) unless asked."""
    kind = rule["rule"]
    if kind == "applicant_choice":
        return await candidates_for(rule["candidates"], applicant, org, with_applicant=with_applicant)
    if kind == "users":
        found = await org.users_by_username(rule["users"])
        people = [found[name] for name in rule["users"] if name in found]
    elif kind == "role":
        if rule["department"] == "applicant":
            people = await org.users_with_role(rule["role"], applicant.department_id)
        else:
            people = await org.users_with_role_at(rule["role"], rule["department"])
    else:  # department_head
        # with the applicant: a head applying is their own department's head, not their superior
        people = await org.department_head(applicant.department_id, exclude_user_id=0 if with_applicant else applicant.id)
    return [person for person in people if with_applicant or person.id != applicant.id]


async def approvers_for_node(
    node: dict[str, Any], applicant: Applicant, chosen: dict[str, str], org: Org
) -> list[Member]:
    candidates = await candidates_for(node["approvers"], applicant, org)
    if is_applicant_choice(node):
        username = chosen.get(node["key"])
        picked = [person for person in candidates if person.username == username]
        if not picked:
            raise InvalidInput("approver_invalid", f"「{node['name']}」请选择有效的审核人")
        return picked
    if not candidates:
        raise InvalidInput("no_approver", f"「{node['name']}」没有可用的审核人,请联系管理员", ask_helpdesk=True)
    return candidates


async def check_choices(
    process: list[dict[str, Any]], applicant: Applicant, chosen: Mapping[str, str], org: Org
) -> dict[str, str]:
    """Validate the applicant's 选择审核人 answers (node key → username) for every node that asks for one."""
    choice_nodes = {node["key"]: node for node in process if is_applicant_choice(node)}
    unknown = set(chosen) - set(choice_nodes)
    if unknown:
        raise InvalidInput("approvers_invalid", f"节点 {sorted(unknown)[0]} 不需要选择审核人")
    for key, node in choice_nodes.items():
        if key not in chosen:
            raise InvalidInput("approver_required", f"「{node['name']}」需要选择审核人")
        await approvers_for_node(node, applicant, chosen, org)
    return dict(chosen)
