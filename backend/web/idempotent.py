"""Running a state-changing command: one transaction, optional idempotency key.

A retry with the same key and body returns the stored result; the same key with a
different body is 422; a duplicate arriving while the first is still running is 409.
The stored result commits with the change it describes, so it can never disagree.
API clients send the key as the ``Idempotency-Key`` header; the hall's forms carry a
one-time ``submit_token`` (see pages/forms.py).
"""
from __future__ import annotations

import asyncio
import hashlib
import json
import secrets
from typing import Any, Awaitable, Callable, Optional

from aiohttp import web
from multidict import MultiMapping
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from ..db.database import Database
from ..db.models import IdempotencyRecord, User
from ..errors import Conflict, InvalidInput, Unprocessable
from .auth import actor
from .jsonio import json_response
from .keys import DATABASE

Command = Callable[[AsyncSession, User], Awaitable[tuple[int, dict[str, Any]]]]
MAX_KEY = 128


def fingerprint(method: str, path: str, body: dict[str, Any]) -> str:
    canonical = json.dumps([method, path, body], sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


async def run_once(database: Database, user: User, key: Optional[str], print_: str,
                   command: Command) -> tuple[int, dict[str, Any]]:
    """Run ``command`` in one write transaction; with a key, at most once per user and key:
    a repeat gets the stored (status, result), the key with another fingerprint is 422, a
    repeat while the first still runs is 409."""
    async with database.write() as session:
        record = None
        if key:
            stored = await session.scalar(
                select(IdempotencyRecord).where(IdempotencyRecord.user_id == user.id, IdempotencyRecord.key == key)
            )
            if stored is not None:
                if stored.fingerprint != print_:
                    raise Unprocessable("idempotency_key_reused", "该 Idempotency-Key 已用于另一个请求")
                return stored.status_code, stored.response
            # Claim the key first: a concurrent duplicate blocks on it and then fails.
            record = IdempotencyRecord(user_id=user.id, key=key, fingerprint=print_, status_code=0)
            session.add(record)
            try:
                await session.flush()
            except IntegrityError:
                raise Conflict("idempotency_in_progress", "相同的请求正在处理,请稍后再试") from None
        status, payload = await command(session, user)
        if record is not None:
            record.status_code, record.response = status, payload
    return status, payload


async def run_command(request: web.Request, body: dict[str, Any], command: Command) -> web.Response:
    """An API command, once per ``Idempotency-Key`` header when the client sends one."""
    key = request.headers.get("Idempotency-Key")
    if key is not None and not (0 < len(key) <= MAX_KEY):
        raise InvalidInput("bad_idempotency_key", f"Idempotency-Key 长度应为 1 到 {MAX_KEY}")
    print_ = fingerprint(request.method, request.path, body) if key else ""
    status, payload = await run_once(request.app[DATABASE], actor(request), key, print_, command)
    return json_response(payload, status=status)


# ------------------------------------------------------------ the hall's forms
FORM_TOKEN_FIELD = "submit_token"
FORM_TOKEN_CHARS = 32
IN_PROGRESS_WAITS = 50      # a double click's second POST waits for the first this many times …
IN_PROGRESS_PAUSE = 0.1     # … this long each


def new_form_token() -> str:
    """One per form shown: its submissions run at most once (a double click makes one application)."""
    return secrets.token_urlsafe(24)


async def run_form_once(request: web.Request, posted: MultiMapping[Any], body: dict[str, Any],
                        command: Command) -> dict[str, Any]:
    """Run a form's command once per form token: a repeat gets the first result; the
    token with other answers (the form submitted, then edited and sent again) is refused."""
    token = posted.get(FORM_TOKEN_FIELD)
    if not isinstance(token, str) or len(token) != FORM_TOKEN_CHARS:
        raise InvalidInput("form_token_missing", "表单已过期,请刷新页面后重新填写提交")
    print_ = fingerprint(request.method, request.path, body)
    for _ in range(IN_PROGRESS_WAITS):
        try:
            return (await run_once(request.app[DATABASE], actor(request), f"form:{token}", print_, command))[1]
        except Conflict as error:
            if error.code != "idempotency_in_progress":
                raise
            await asyncio.sleep(IN_PROGRESS_PAUSE)
    raise Conflict("idempotency_in_progress", "相同的表单正在提交,请稍后在「我的申请」查看")
