"""/helpdesk: the assistant hands a conversation to a person or leaves a ticket (service token on
the person's behalf), and the console of the 服务台 staff (queue, transcript, reply, back to the
assistant, tickets, who the person is)."""
from __future__ import annotations

from typing import Any, Optional

import aiohttp
from aiohttp import web

from ...db import audit
from ...db.models import User
from ...errors import Forbidden, InvalidInput
from ...helpdesk import service
from ...helpdesk.transcript import transcript
from ...notify.rasa import RasaUnavailable, conversation_events
from ...read.applications import ApplicationsView
from ...read.people import PeopleView
from ..auth import CHANNEL, ON_BEHALF_OF, actor
from ..helpdesk_access import require_helpdesk
from ..jsonio import json_response, path_id, read_json, storable
from ..keys import DATABASE, SETTINGS, WORKFLOW
from ..services import view

RECENT_APPLICATIONS = 5


def _now(request: web.Request):
    return request.app[WORKFLOW].now()


def text_from(body: Any, field: str = "text") -> str:
    text = service.text_of(body, field)
    if not storable(text):
        raise InvalidInput("bad_text", f"{field} 含有无法识别的字符")
    return text


def _identity(request: web.Request) -> str:
    """The chat the call comes from: the assistant's on-behalf-of identity, else the hall's web chat."""
    if request.get(CHANNEL) == "service":
        return request.headers[ON_BEHALF_OF].strip()
    return f"web:{actor(request).username}"


def _assistant_only(request: web.Request) -> str:
    if request.get(CHANNEL) != "service":
        raise Forbidden("assistant_only", "转人工请在对话中向校务助手说「转人工」")
    return _identity(request)


def _hours(request: web.Request) -> dict[str, Any]:
    settings = request.app[SETTINGS]
    return {"open": settings.helpdesk_hours.open_at(_now(request).astimezone(settings.timezone)),
            "hours": settings.helpdesk_hours.describe(), "phone": settings.helpdesk_phone}


# ---------------------------------------------------------------- for the assistant


async def helpdesk_status(request: web.Request) -> web.Response:
    return json_response(_hours(request))


async def start_handoff(request: web.Request) -> web.Response:
    identity = _assistant_only(request)
    body = await read_json(request)
    reason = body.get("reason", "request")
    if reason not in service.REASONS:
        raise InvalidInput("bad_reason", "reason 应为 " + " / ".join(service.REASONS))
    hours = _hours(request)
    if not hours["open"]:
        return json_response({**hours, "conversation": None})
    async with request.app[DATABASE].write() as session:
        conversation = await service.start(session, actor(request), identity, reason, _now(request))
        return json_response({**hours, "conversation": await service.summary(session, conversation)})


async def relay_message(request: web.Request) -> web.Response:
    _assistant_only(request)
    text = text_from(await read_json(request))
    async with request.app[DATABASE].write() as session:
        conversation = await service.relay(session, actor(request), text, _now(request))
        return json_response({"conversation": await service.summary(session, conversation)})


async def current_handoff(request: web.Request) -> web.Response:
    """The person's open conversation with the help desk, if any (a new assistant session carries on relaying)."""
    _assistant_only(request)
    async with request.app[DATABASE].read() as session:
        conversation = await service.open_conversation(session, actor(request).id)
        return json_response({"conversation": None if conversation is None
                              else await service.summary(session, conversation)})


async def withdraw_handoff(request: web.Request) -> web.Response:
    _assistant_only(request)
    async with request.app[DATABASE].write() as session:
        conversation = await service.withdraw(session, actor(request), _now(request))
        return json_response({"conversation": await service.summary(session, conversation)})


async def leave_ticket(request: web.Request) -> web.Response:
    text = text_from(await read_json(request))
    async with request.app[DATABASE].write() as session:
        ticket = await service.leave_ticket(session, actor(request), _identity(request), text, _now(request))
        return json_response(await service.ticket_view(session, ticket), status=201)


# ---------------------------------------------------------------- the console


def _statuses(request: web.Request) -> tuple[str, ...]:
    status = request.query.get("status", "open")
    if status == "open":
        return service.WAITING, service.ACTIVE
    if status not in service.CONVERSATION_STATES:
        raise InvalidInput("bad_query", "status 应为 open / waiting / active / closed")
    return (status,)


def _conversation_id(request: web.Request) -> int:
    return path_id(request, "conversation_not_found", "没有找到对话")


def _ticket_id(request: web.Request) -> int:
    return path_id(request, "ticket_not_found", "没有找到留言")


async def list_conversations(request: web.Request) -> web.Response:
    await require_helpdesk(request)
    statuses = _statuses(request)
    async with request.app[DATABASE].read() as session:
        return json_response({"items": await service.conversations(session, statuses)})


async def conversation_with_transcript(request: web.Request, conversation_id: int) -> dict[str, Any]:
    async with request.app[DATABASE].read() as session:
        conversation = await service.conversation_of(session, conversation_id)
        summary = await service.summary(session, conversation)
        said = await service.messages(session, conversation_id)
    events = await assistant_record(request, conversation.sender)
    return {**summary, "transcript": transcript(events, conversation.created_at, said)}


async def assistant_record(request: web.Request, sender: str) -> Optional[list[dict[str, Any]]]:
    """The conversation's events in Rasa's tracker store; None when they cannot be read."""
    settings = request.app[SETTINGS]
    if not settings.rasa_jwt_secret:
        return None
    try:
        async with aiohttp.ClientSession() as http:
            return await conversation_events(settings.rasa_url, settings.rasa_jwt_secret, http, sender)
    except RasaUnavailable:
        return None


async def get_conversation(request: web.Request) -> web.Response:
    await require_helpdesk(request)
    return json_response(await conversation_with_transcript(request, _conversation_id(request)))


async def take_conversation(request: web.Request) -> web.Response:
    staff = await require_helpdesk(request)
    async with request.app[DATABASE].write() as session:
        conversation = await service.take(session, _conversation_id(request), staff, _now(request))
        return json_response(await service.summary(session, conversation))


async def reply_to_conversation(request: web.Request) -> web.Response:
    staff = await require_helpdesk(request)
    conversation_id = _conversation_id(request)
    text = text_from(await read_json(request))
    async with request.app[DATABASE].write() as session:
        await service.reply(session, conversation_id, staff, text, _now(request))
        return json_response({"messages": await service.messages(session, conversation_id)})


async def hand_back_conversation(request: web.Request) -> web.Response:
    staff = await require_helpdesk(request)
    async with request.app[DATABASE].write() as session:
        conversation = await service.hand_back(session, _conversation_id(request), staff, _now(request))
        return json_response(await service.summary(session, conversation))


async def person_in_conversation(request: web.Request, staff: User, conversation_id: int) -> dict[str, Any]:
    """Who the person is and their recent applications with where they stand; each look-up recorded
    (once per staff member and person in audit.REREAD_WINDOW: the page refreshes itself)."""
    async with request.app[DATABASE].read() as session:
        conversation = await service.conversation_of(session, conversation_id)
        person = await session.get_one(User, conversation.user_id)
        found = {"person": await view(request, session, PeopleView).me(person),
                 "applications": (await view(request, session, ApplicationsView).applications(
                     person, None, RECENT_APPLICATIONS, 0))["items"]}
    await audit.record_read(request.app[DATABASE], request.get(CHANNEL, "api"), user_id=staff.id,
                            username=staff.username, address=request.remote,
                            user_agent=request.headers.get("User-Agent", ""), target=f"helpdesk_person:{person.username}")
    return found


async def get_person(request: web.Request) -> web.Response:
    staff = await require_helpdesk(request)
    return json_response(await person_in_conversation(request, staff, _conversation_id(request)))


async def list_tickets(request: web.Request) -> web.Response:
    await require_helpdesk(request)
    status = request.query.get("status") or None
    if status is not None and status not in service.TICKET_STATES:
        raise InvalidInput("bad_query", "status 应为 open / answered / closed")
    async with request.app[DATABASE].read() as session:
        return json_response({"items": await service.tickets(session, status)})


async def answer_ticket(request: web.Request) -> web.Response:
    staff = await require_helpdesk(request)
    ticket_id = _ticket_id(request)
    text = text_from(await read_json(request), "answer")
    async with request.app[DATABASE].write() as session:
        ticket = await service.answer_ticket(session, ticket_id, staff, text, _now(request))
        return json_response(await service.ticket_view(session, ticket))


async def close_ticket(request: web.Request) -> web.Response:
    await require_helpdesk(request)
    async with request.app[DATABASE].write() as session:
        ticket = await service.close_ticket(session, _ticket_id(request), _now(request))
        return json_response(await service.ticket_view(session, ticket))
