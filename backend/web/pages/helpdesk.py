"""服务台 console pages (role 服务台 only): the queue (waiting with their wait, active ones — mine and
others'), a conversation (transcript, who the person is and their recent applications — each
look-up audited — take, reply, back to the assistant), and tickets (open / answered / closed).
The same service calls as /api/v1/helpdesk."""
from __future__ import annotations

from datetime import datetime
from typing import Any, Optional

from aiohttp import web

from ...errors import AppError, InvalidInput
from ...helpdesk import service
from ..api.helpdesk import conversation_with_transcript, person_in_conversation, text_from
from ..helpdesk_access import require_helpdesk
from ..jsonio import path_id
from ..keys import DATABASE, WORKFLOW
from .rendering import render, see_other

REASON_LABELS = {"request": "本人要求", "misunderstood": "助手没听懂", "unsure": "助手没把握"}
TICKET_TABS = {"open": "待答复", "answered": "已答复", "closed": "已关闭"}
NOTICES = {"take": "已接手,请在下方回复。", "reply": "已发送给对方。", "hand_back": "已结束人工服务,对话转回校务助手。",
           "answer": "已答复,对方会收到通知。", "close": "留言已关闭。"}


def _minutes_since(request: web.Request, iso: Optional[str]) -> int:
    if not iso:
        return 0
    return max(0, int((request.app[WORKFLOW].now() - datetime.fromisoformat(iso)).total_seconds() // 60))


async def queue(request: web.Request) -> web.Response:
    staff = await require_helpdesk(request)
    async with request.app[DATABASE].read() as session:
        items = await service.conversations(session, (service.WAITING, service.ACTIVE))
    for item in items:
        item["waited_minutes"] = _minutes_since(request, item["created_at"])
    return render(request, "helpdesk.html", {
        "waiting": [c for c in items if c["status"] == service.WAITING],
        "mine": [c for c in items if c["status"] == service.ACTIVE and c["taken_by"]["id"] == staff.id],
        "others": [c for c in items if c["status"] == service.ACTIVE and c["taken_by"]["id"] != staff.id],
        "reasons": REASON_LABELS})


def _conversation_id(request: web.Request) -> int:
    return path_id(request, "conversation_not_found", "没有找到对话")


async def _conversation_page(request: web.Request, conversation_id: int, status: int = 200,
                             error: Optional[str] = None, kept: str = "") -> web.Response:
    staff = await require_helpdesk(request)
    conversation = await conversation_with_transcript(request, conversation_id)
    found = await person_in_conversation(request, staff, conversation_id)
    context: dict[str, Any] = {"c": conversation, **found, "reasons": REASON_LABELS, "error": error, "kept": kept,
                               "mine": (conversation["taken_by"] or {}).get("id") == staff.id,
                               "notice": NOTICES.get(request.query.get("notice", ""))}
    return render(request, "helpdesk_conversation.html", context, status=status)


async def conversation_page(request: web.Request) -> web.Response:
    return await _conversation_page(request, _conversation_id(request))


async def act_on_conversation(request: web.Request) -> web.Response:
    staff = await require_helpdesk(request)
    conversation_id = _conversation_id(request)
    posted = await request.post()
    action, text = posted.get("action"), posted.get("text") if isinstance(posted.get("text"), str) else ""
    now = request.app[WORKFLOW].now()
    try:
        async with request.app[DATABASE].write() as session:
            if action == "take":
                await service.take(session, conversation_id, staff, now)
            elif action == "reply":
                await service.reply(session, conversation_id, staff, text_from({"text": text}), now)
            elif action == "hand_back":
                await service.hand_back(session, conversation_id, staff, now)
            else:
                raise InvalidInput("bad_action", "请选择要执行的操作")
    except AppError as error:
        if error.status == 404:
            raise
        return await _conversation_page(request, conversation_id, error.status, error.message, text)
    raise see_other(f"/helpdesk/conversations/{conversation_id}?notice={action}")


async def ticket_list(request: web.Request, status: int = 200, error: Optional[str] = None) -> web.Response:
    await require_helpdesk(request)
    tab = request.query.get("status", "open")
    if tab not in TICKET_TABS:
        tab = "open"
    async with request.app[DATABASE].read() as session:
        items = await service.tickets(session, tab)
    return render(request, "helpdesk_tickets.html", {"tab": tab, "tabs": TICKET_TABS, "items": items,
                                                      "error": error,
                                                      "notice": NOTICES.get(request.query.get("notice", ""))},
                  status=status)


async def act_on_ticket(request: web.Request) -> web.Response:
    staff = await require_helpdesk(request)
    ticket_id = path_id(request, "ticket_not_found", "没有找到留言")
    posted = await request.post()
    action = posted.get("action")
    answer = posted.get("answer") if isinstance(posted.get("answer"), str) else ""
    now = request.app[WORKFLOW].now()
    try:
        async with request.app[DATABASE].write() as session:
            if action == "answer":
                await service.answer_ticket(session, ticket_id, staff, text_from({"answer": answer}, "answer"), now)
            elif action == "close":
                await service.close_ticket(session, ticket_id, now)
            else:
                raise InvalidInput("bad_action", "请选择要执行的操作")
    except AppError as error:
        if error.status == 404:
            raise
        return await ticket_list(request, error.status, error.message)
    raise see_other(f"/helpdesk/tickets?status={'answered' if action == 'answer' else 'closed'}&notice={action}")
