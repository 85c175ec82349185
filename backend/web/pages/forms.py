"""A matter's form on a page: posted fields → the answers the workflow validates, and the
workflow's validation error → messages shown next to each field.

Field names are ``form.<key>``, ``approvers.<node key>`` and, for an attachment field's files
posted with the form (the page without JS), ``upload.<key>``: schema keys are lower-case
ASCII, so the prefixes can never collide with a field. An attachment field's ``form.<key>``
holds the ids of files already uploaded (by the page's script, or kept from a refused post).
"""
from __future__ import annotations

import re
from typing import Any

from aiohttp import web
from aiohttp.web_request import FileField
from multidict import MultiMapping
from sqlalchemy.ext.asyncio import AsyncSession

from ...config import FileSettings
from ...db import files
from ...errors import AppError
from ...files import kinds
from ...files.uploads import accept
from ...workflow.forms import file_ids
from ..api.files import posted_files as read_posted
from ..idempotent import FORM_TOKEN_FIELD, new_form_token
from ..keys import ACTOR, DATABASE, FILE_STORE, SETTINGS

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


def posted_files(schema: list[dict[str, Any]], posted: MultiMapping[Any]) -> dict[str, list[FileField]]:
    """The files posted with the form, per attachment field (a browser sends an empty part
    when none was chosen)."""
    found = {}
    for field in schema:
        if field["type"] == "attachment":
            chosen = [v for v in posted.getall(f"upload.{field['key']}", []) if isinstance(v, FileField) and v.filename]
            if chosen:
                found[field["key"]] = chosen
    return found


def with_uploads(answers: dict[str, Any], key: str, ids: list[int]) -> None:
    """Files just kept for ``key`` join the ones uploaded before (a typed name gives way)."""
    before = file_ids(answers.get(key)) or []
    answers[key] = before + ids


async def attachments(session: AsyncSession, user_id: int, schema: list[dict[str, Any]],
                      values: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Per attachment field, what the form shows: the user's uploaded files it holds, the value
    its hidden box posts again, and a typed file name of an older answer."""
    named = {f["key"]: file_ids(values.get(f["key"])) for f in schema if f["type"] == "attachment"}
    found = await files.described(session, [i for ids in named.values() for i in ids or []], owner_id=user_id)
    shown = {}
    for key, ids in named.items():
        mine = [found[i] for i in ids or [] if i in found]
        typed = values.get(key) if ids is None and isinstance(values.get(key), str) else None
        shown[key] = {"files": mine, "typed": typed,
                      "value": ",".join(str(f["id"]) for f in mine) if mine else (typed or "")}
    return shown


async def keep_posted_files(request: web.Request, schema: list[dict[str, Any]], posted: MultiMapping[Any],
                            answers: dict[str, Any]) -> None:
    """Files posted with the form (the page without its script) are kept as the user's and
    named in ``answers``; a refused file is reported at its field, the others stay kept."""
    app = request.app
    for key, fields in posted_files(schema, posted).items():
        try:
            stored = await accept(app[DATABASE], app[FILE_STORE], app[SETTINGS].files, request[ACTOR],
                                  await read_posted(fields))
        except AppError as error:
            error.details = {**error.details, "fields": {key: error.message}}
            raise
        with_uploads(answers, key, [f["id"] for f in stored])


async def shown_uploads(request: web.Request, schema: list[dict[str, Any]], values: dict[str, Any]) -> dict[str, dict[str, Any]]:
    async with request.app[DATABASE].read() as session:
        return await attachments(session, request[ACTOR].id, schema, values)


def upload_limits(limits: FileSettings) -> dict[str, Any]:
    """What the form tells people and its script checks before sending."""
    return {"max_bytes": limits.max_bytes, "max_files": limits.max_files, "types": limits.types,
            "accept": ",".join("." + t for t in limits.types),
            "text": f"可上传多个文件,每个不超过 {limits.max_bytes // (1024 * 1024)} MB,"
                    f"一次最多 {limits.max_files} 个;支持 {kinds.describe_types(limits.types)}"}


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
                 error: AppError | None = None, posted: MultiMapping[Any] | None = None,
                 uploads: dict[str, dict[str, Any]] | None = None) -> dict[str, Any]:
    """What matter_form.html needs, for a fresh, a prefilled or a refused form. A refused
    form keeps its one-time token (nothing was submitted with it); a fresh one gets a new one."""
    kept = posted.get(FORM_TOKEN_FIELD) if posted is not None and error is not None else None
    token = kept if isinstance(kept, str) and error.code != "idempotency_key_reused" else new_form_token()
    return {"matter": matter, "values": values, "approvers": approvers, "submit_token": token,
            "errors": field_errors(error) if error else {}, "error": error.message if error else None,
            "uploads": uploads or {}}


def body(answers: dict[str, Any], approvers: dict[str, str], cc: list[str] | None = None) -> dict[str, Any]:
    """What a form submission is, for recognising its repeats."""
    return {"form": answers, "approvers": approvers, **({"cc": cc} if cc else {})}
