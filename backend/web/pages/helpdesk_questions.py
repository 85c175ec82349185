"""服务台 console pages of the unanswered-question loop (role 服务台 only): the open questions in
groups of similar ones, answered by pointing a group at an answer or writing one; the answer
texts the assistant serves, edited in place. The same calls as /api/v1/helpdesk/questions and
/api/v1/faq/answers."""
from __future__ import annotations

from typing import Any, Optional

from aiohttp import web

from ...errors import AppError
from ...read.faq import KIND_LABELS, FaqView, WeeklyView
from ..api import faq
from ..helpdesk_access import require_helpdesk
from ..keys import DATABASE, WORKFLOW
from ..services import view
from .rendering import render, see_other

NOTICES = {"answered": "已答复这组问题;助手下一次回答就用这条回答。", "saved": "回答已保存,助手下一次回答即用新文本。"}


def _posted_text(posted: Any, name: str) -> str:
    value = posted.get(name)
    return value if isinstance(value, str) else ""


async def questions_page(request: web.Request, status: int = 200, error: Optional[str] = None,
                         kept: Optional[dict[str, Any]] = None) -> web.Response:
    await require_helpdesk(request)
    state = "answered" if request.query.get("state") == "answered" else "open"
    async with request.app[DATABASE].read() as session:
        faq_view = view(request, session, FaqView)
        groups = await faq_view.groups(answered=state == "answered")
        answers = await faq_view.answers()
        weeks = await view(request, session, WeeklyView).weeks(request.app[WORKFLOW].now())
    return render(request, "helpdesk_questions.html", {
        "state": state, "groups": groups, "answers": answers, "kinds": KIND_LABELS, "error": error, "weeks": weeks,
        "kept": kept or {}, "notice": NOTICES.get(request.query.get("notice", ""))}, status=status)


def _answer_body(posted: Any) -> dict[str, Any]:
    """The group form: its question ids; an existing answer, or a new key's name with its text."""
    ids = [int(i) for i in posted.getall("questions", []) if isinstance(i, str) and i.isdigit() and len(i) < 12]
    new_name, text = _posted_text(posted, "new_name").strip(), _posted_text(posted, "text")
    key = f"faq/{new_name}" if new_name else _posted_text(posted, "key")
    body: dict[str, Any] = {"questions": ids, "key": key}
    if new_name or text.strip():
        body["text"] = text
    return body


async def answer_group(request: web.Request) -> web.Response:
    posted = await request.post()
    body = _answer_body(posted)
    try:
        await faq.answer(request, body)
    except AppError as error:
        if error.status == 403:
            raise
        kept = {"group": body["questions"][0] if body["questions"] else None, "key": body["key"],
                "new_name": _posted_text(posted, "new_name"), "text": _posted_text(posted, "text")}
        return await questions_page(request, error.status, error.message, kept)
    raise see_other("/helpdesk/questions?notice=answered")


async def answers_page(request: web.Request) -> web.Response:
    await require_helpdesk(request)
    async with request.app[DATABASE].read() as session:
        answers = await view(request, session, FaqView).answers()
    return render(request, "helpdesk_answers.html", {"answers": answers,
                                                     "notice": NOTICES.get(request.query.get("notice", ""))})


async def answer_page(request: web.Request, status: int = 200, error: Optional[str] = None,
                      kept: Optional[str] = None) -> web.Response:
    await require_helpdesk(request)
    async with request.app[DATABASE].read() as session:
        answer = await view(request, session, FaqView).answer(faq.key_in_path(request))
    return render(request, "helpdesk_answers_edit.html", {"answer": answer, "error": error,
                                                          "text": answer["text"] if kept is None else kept},
                  status=status)


async def edit_answer(request: web.Request) -> web.Response:
    text = _posted_text(await request.post(), "text")
    try:
        answer = await faq.edit(request, {"text": text})
    except AppError as error:
        if error.status in (403, 404):
            raise
        return await answer_page(request, error.status, error.message, text)
    raise see_other(f"/helpdesk/answers?notice=saved#{answer['key'].removeprefix('faq/')}")
