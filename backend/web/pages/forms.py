"""A matter's form on a page: posted fields → the answers the workflow validates, and the
workflow's validation error → messages shown next to each field.

Field names are ``form.<key>`` and ``approvers.<node key>``: schema keys are lower-case
ASCII, so the prefixes can never collide with a field.
"""
from __future__ import annotations

import re
from typing import Any

from multidict import MultiMapping

from ...errors import AppError
from ..idempotent import FORM_TOKEN_FIELD, new_form_token

APPROVER_ERRORS = {"approver_invalid", "approver_required", "approvers_invalid"}
# At submit only 抄送 names people outside the form (person fields report under their key).
CC_ERRORS = {"cc_invalid", "too_many_cc", "user_not_found"}
CC_SEPARATORS = re.compile(r"[\s,,、;;]+")


def answers(schema: list[dict[str, Any]], posted: MultiMapping[Any]) -> dict[str, Any]:
    """What the applicant typed, as text; blank fields are left out (the workflow decides
    whether they were required)."""
    found: dict[str, Any] = {}
    for field in schema:
        name = f"form.{field['key']}"
        if field["type"] == "multichoice":
            chosen = [v for v in posted.getall(name, []) if isinstance(v, str) and v]
            if chosen:
                found[field["key"]] = chosen
        else:
            value = posted.get(name)
            if isinstance(value, str) and value.strip():
                found[field["key"]] = value
    return found


def chosen_approvers(nodes: list[dict[str, Any]], posted: MultiMapping[Any]) -> dict[str, str]:
    found = {}
    for node in nodes:
        value = posted.get(f"approvers.{node['key']}")
        if node["choose_approver"] and isinstance(value, str) and value:
            found[node["key"]] = value
    return found


def copied(posted: MultiMapping[Any]) -> list[str]:
    """抄送: the usernames in the ``cc`` box (the picker fills it; without JS they are typed),
    separated by commas, 、 or spaces. The workflow checks that each names someone."""
    value = posted.get("cc")
    return [u for u in CC_SEPARATORS.split(value) if u] if isinstance(value, str) else []


def field_errors(error: AppError) -> dict[str, str]:
    """Per-field messages; 选择审核人 problems go under the key ``approvers``, 抄送's under ``cc``."""
    errors = dict(error.details.get("fields") or {})
    if error.code in APPROVER_ERRORS:
        errors["approvers"] = error.message
    if error.code in CC_ERRORS:
        errors["cc"] = error.message
    return errors


def form_context(matter: dict[str, Any], values: dict[str, Any], approvers: dict[str, str],
                 error: AppError | None = None, posted: MultiMapping[Any] | None = None) -> dict[str, Any]:
    """What matter_form.html needs, for a fresh, a prefilled or a refused form. A refused
    form keeps its one-time token (nothing was submitted with it); a fresh one gets a new one."""
    kept = posted.get(FORM_TOKEN_FIELD) if posted is not None and error is not None else None
    token = kept if isinstance(kept, str) and error.code != "idempotency_key_reused" else new_form_token()
    return {"matter": matter, "values": values, "approvers": approvers, "submit_token": token,
            "errors": field_errors(error) if error else {}, "error": error.message if error else None}


def body(answers: dict[str, Any], approvers: dict[str, str], cc: list[str] | None = None) -> dict[str, Any]:
    """What a form submission is, for recognising its repeats."""
    return {"form": answers, "approvers": approvers, **({"cc": cc} if cc else {})}
