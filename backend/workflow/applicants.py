"""Who may apply to a matter: its ``applicants`` rule in the catalogue.

  applicants: {kinds: [staff] | [student] | [staff, student], roles: [辅导员, …]}

Absent (or empty) means everyone. With both keys a person needs both: one of the kinds
and one of the roles. The catalogue lists, the hall, search and chat offer only what a
person may apply to, and a submission by anyone else is refused.
"""
from __future__ import annotations

from typing import Any, Iterable, Optional

KINDS = {"staff": "教职工", "student": "学生"}


def check_applicants(rule: Any, where: str) -> Optional[dict[str, list[str]]]:
    """The rule as stored (None for everyone); a malformed one is refused at import."""
    if rule is None:
        return None
    if not isinstance(rule, dict) or set(rule) - {"kinds", "roles"}:
        raise ValueError(f"{where}: applicants takes kinds and roles only")
    stored = {}
    for key in ("kinds", "roles"):
        values = rule.get(key)
        if values is None:
            continue
        if not isinstance(values, list) or not values or not all(isinstance(v, str) and v for v in values):
            raise ValueError(f"{where}: applicants.{key} should be a non-empty list of names")
        stored[key] = list(values)
    unknown = set(stored.get("kinds", [])) - set(KINDS)
    if unknown:
        raise ValueError(f"{where}: applicants.kinds: unknown {sorted(unknown)}, expected {sorted(KINDS)}")
    return stored or None


def needs_roles(rule: Optional[dict[str, Any]]) -> bool:
    """Whether deciding needs the person's roles (read only then)."""
    return bool(rule and rule.get("roles"))


def may_apply(rule: Optional[dict[str, Any]], kind: str, roles: Iterable[str] = ()) -> bool:
    if not rule:
        return True
    kinds, wanted = rule.get("kinds"), rule.get("roles")
    return (not kinds or kind in kinds) and (not wanted or bool(set(wanted) & set(roles)))


def audience(rule: Optional[dict[str, Any]]) -> str:
    """「教职工」「学生(辅导员)」: who may apply, for the refusal's message."""
    if not rule:
        return "所有人"
    kinds = "、".join(KINDS[k] for k in rule.get("kinds") or []) or "人员"
    roles = "、".join(rule.get("roles") or [])
    return f"{kinds}({roles})" if roles else kinds


def refusal(matter_name: str, rule: Optional[dict[str, Any]]) -> tuple[str, str]:
    """The error code and message for someone who may not apply."""
    return "not_an_applicant", f"《{matter_name}》仅限{audience(rule)}申请,您不在可申请范围内"
