"""The FAQ loop over HTTP: answer texts by key (the assistant reads them at every answer; 服务台
staff edit them), the questions the assistant could not answer well (recorded by the action
server on the person's behalf), and the console's grouped view of them."""
from __future__ import annotations

import math
import re
from typing import Any, Optional

from aiohttp import web

from ...db import faq as store
from ...errors import InvalidInput, NotFound
from ...read.faq import FaqView, WeeklyView
from ..auth import CHANNEL, ON_BEHALF_OF, actor
from ..helpdesk_access import require_helpdesk
from ..jsonio import MAX_ID, int_query, json_response, path_text, read_json
from ..keys import DATABASE, WORKFLOW
from ..services import view

KEY = re.compile(r"faq/[a-z0-9_]{1,60}")
KINDS = ("answered", "fallback", "low_confidence", "not_helpful")
ANSWERED_KINDS = ("answered", "low_confidence")  # the assistant answers these with the key's text
MAX_QUESTION = 500
MAX_ANSWER = 4000
MAX_GROUP = 500


# ---------------------------------------------------------------- parsing the bodies


def answer_key(value: Any, field: str = "key") -> str:
    if not isinstance(value, str) or not KEY.fullmatch(value):
        raise InvalidInput("bad_key", f"{field} 应为 faq/ 加小写字母、数字或下划线(如 faq/open_site)")
    return value


def text_field(body: dict[str, Any], field: str, limit: int) -> str:
    value = body.get(field)
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(f"bad_{field}", f"{field} 不能为空")
    if len(value) > limit:
        raise InvalidInput(f"bad_{field}", f"{field} 不能超过 {limit} 个字")
    return value.strip()


def _confidence(value: Any) -> Optional[float]:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1 or math.isnan(value):
        raise InvalidInput("bad_confidence", "confidence 应为 0 到 1 之间的数")
    return float(value)


def question_ids(value: Any) -> list[int]:
    if (not isinstance(value, list) or not value or len(value) > MAX_GROUP
            or not all(isinstance(i, int) and not isinstance(i, bool) and 0 < i for i in value)):
        raise InvalidInput("bad_questions", f"questions 应为 1 到 {MAX_GROUP} 个问题 id")
    if any(i > MAX_ID for i in value):
        raise NotFound("faq_question_not_found", "没有这些问题")
    return value


def _channel(request: web.Request) -> str:
    """web / wecom for the assistant's calls (the channel of the identity it acts for), else the caller's."""
    if request[CHANNEL] == "service":
        prefix = request.headers.get(ON_BEHALF_OF, "").partition(":")[0].strip()
        return prefix if prefix in ("web", "wecom") else "api"
    return request[CHANNEL]


def key_in_path(request: web.Request) -> str:
    """The path names an answer without its ``faq/`` (a slash cannot travel in one path segment)."""
    key = "faq/" + path_text(request, "name", "faq_answer_not_found", "没有这条常见问题回答")
    if not KEY.fullmatch(key):
        raise NotFound("faq_answer_not_found", f"没有这条常见问题回答:{key}")
    return key


# ---------------------------------------------------------------- answers


async def list_answers(request: web.Request) -> web.Response:
    async with request.app[DATABASE].read() as session:
        return json_response({"items": await view(request, session, FaqView).answers()})


async def get_answer(request: web.Request) -> web.Response:
    async with request.app[DATABASE].read() as session:
        return json_response(await view(request, session, FaqView).answer(key_in_path(request)))


async def edit(request: web.Request, body: dict[str, Any]) -> dict[str, Any]:
    """A new text for the answer the path names (服务台 only). Shared by the API and the console page."""
    user = await require_helpdesk(request)
    key = key_in_path(request)
    text = text_field(body, "text", MAX_ANSWER)
    async with request.app[DATABASE].write() as session:
        await store.write_answer(session, key, text, user.id, request.app[WORKFLOW].now(), must_exist=True)
        return await view(request, session, FaqView).answer(key)


async def edit_answer(request: web.Request) -> web.Response:
    return json_response(await edit(request, await read_json(request)))


# ---------------------------------------------------------------- questions


async def record_question(request: web.Request) -> web.Response:
    """What the person the assistant acts for asked, and how it went. An answered one (answered,
    low_confidence) comes back with the text held for its key, read in the same transaction: the
    assistant answers from it, one round trip per answer instead of two."""
    body = await read_json(request)
    text = text_field(body, "text", MAX_QUESTION)
    kind = body.get("kind")
    if kind not in KINDS:
        raise InvalidInput("bad_kind", f"kind 应为 {' / '.join(KINDS)}")
    predicted = body.get("predicted_key")
    predicted = None if predicted is None else answer_key(predicted, "predicted_key")
    confidence = _confidence(body.get("confidence"))
    async with request.app[DATABASE].write() as session:
        question_id = await store.record_question(
            session, text=text, kind=kind, channel=_channel(request), user_id=actor(request).id,
            predicted_key=predicted, confidence=confidence, now=request.app[WORKFLOW].now())
        answer = (await view(request, session, FaqView).answer_if_held(predicted)
                  if predicted is not None and kind in ANSWERED_KINDS else None)
    return json_response({"id": question_id, "answer": answer}, status=201)


async def list_question_groups(request: web.Request) -> web.Response:
    await require_helpdesk(request)
    state = request.query.get("state", "open")
    if state not in ("open", "answered"):
        raise InvalidInput("bad_query", "参数 state 应为 open 或 answered")
    limit = int_query(request, "limit", MAX_GROUP, 1, MAX_GROUP)
    async with request.app[DATABASE].read() as session:
        groups = await view(request, session, FaqView).groups(answered=state == "answered", limit=limit)
    return json_response({"groups": groups})


async def answer(request: web.Request, body: dict[str, Any]) -> dict[str, Any]:
    """Point questions at an answer key; with a text, write that answer (a new key, or a new
    text for an existing one) in the same transaction. Shared by the API and the console page."""
    user = await require_helpdesk(request)
    ids = question_ids(body.get("questions"))
    key = answer_key(body.get("key"))
    text = text_field(body, "text", MAX_ANSWER) if body.get("text") is not None else None
    now = request.app[WORKFLOW].now()
    async with request.app[DATABASE].write() as session:
        if text is not None:
            await store.write_answer(session, key, text, user.id, now, must_exist=False)
        answer_row = await view(request, session, FaqView).answer(key)
        answered = await store.answer_questions(session, ids, key, user.id, now)
    return {"answered": answered, "answer": answer_row}


async def answer_questions(request: web.Request) -> web.Response:
    return json_response(await answer(request, await read_json(request)))


async def weekly_figures(request: web.Request) -> web.Response:
    await require_helpdesk(request)
    async with request.app[DATABASE].read() as session:
        weeks = await view(request, session, WeeklyView).weeks(request.app[WORKFLOW].now())
    return json_response({"weeks": weeks})
