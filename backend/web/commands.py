"""Running a state-changing command: one transaction, optional Idempotency-Key.

A retry with the same key and body returns the stored result; the same key with a
different body is 422; a duplicate arriving while the first is still running is 409.
The stored result commits with the change it describes, so it can never disagree.
"""
from __future__ import annotations

import hashlib
import json
from typing import Any, Awaitable, Callable

from aiohttp import web
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from ..db.models import IdempotencyRecord, User
from ..workflow.engine import Decision, Workflow
from ..workflow.errors import Conflict, InvalidInput, Unprocessable
from .auth import actor
from .jsonio import json_response
from .keys import DATABASE

Command = Callable[[AsyncSession, User], Awaitable[tuple[int, dict[str, Any]]]]
MAX_KEY = 128


def _fingerprint(request: web.Request, body: dict[str, Any]) -> str:
    canonical = json.dumps([request.method, request.path, body], sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


async def run_command(request: web.Request, body: dict[str, Any], command: Command) -> web.Response:
    user = actor(request)
    key = request.headers.get("Idempotency-Key")
    if key is not None and not (0 < len(key) <= MAX_KEY):
        raise InvalidInput("bad_idempotency_key", f"Idempotency-Key 长度应为 1 到 {MAX_KEY}")
    fingerprint = _fingerprint(request, body) if key else ""
    async with request.app[DATABASE].write() as session:
        record = None
        if key:
            stored = await session.scalar(
                select(IdempotencyRecord).where(IdempotencyRecord.user_id == user.id, IdempotencyRecord.key == key)
            )
            if stored is not None:
                if stored.fingerprint != fingerprint:
                    raise Unprocessable("idempotency_key_reused", "该 Idempotency-Key 已用于另一个请求")
                return json_response(stored.response, status=stored.status_code)
            # Claim the key first: a concurrent duplicate blocks on it and then fails.
            record = IdempotencyRecord(user_id=user.id, key=key, fingerprint=fingerprint, status_code=0)
            session.add(record)
            try:
                await session.flush()
            except IntegrityError:
                raise Conflict("idempotency_in_progress", "相同的请求正在处理,请稍后再试") from None
        status, payload = await command(session, user)
        if record is not None:
            record.status_code, record.response = status, payload
    return json_response(payload, status=status)


async def apply_decision(workflow: Workflow, session: AsyncSession, user: User, task_id: int, move: str,
                         body: dict[str, Any]) -> Decision:
    """One decision on a task — 同意 / 退回 / 加签 / an added signer's opinion — for the API and the pages."""
    opinion = body.get("opinion")
    if move == "approve":
        return await workflow.approve(session, user, task_id, opinion)
    if move == "return":
        return await workflow.return_(session, user, task_id, opinion)
    if move == "add_signers":
        return await workflow.add_signers(session, user, task_id, body.get("users"), opinion)
    return await workflow.sign(session, user, task_id, opinion, body.get("agree", True))
