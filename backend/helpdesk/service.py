"""Handoffs and tickets, each move one short write in the caller's transaction.

A conversation is ``waiting`` in the queue, ``active`` once one staff member took it (a
guarded UPDATE: of two racing, one wins, the other is told who has it), ``closed`` when it
went back to the assistant. What reaches the person (a staff reply, the end of the handoff, a
ticket's answer) is an outbox row written with the change, delivered by the notifier into the
very chat the person wrote from (``payload["chat"]``).
"""
from __future__ import annotations

from datetime import datetime
from typing import Any, Optional

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from ..db.models import HelpdeskConversation, HelpdeskMessage, HelpdeskTicket, OutboxMessage, User, as_utc
from ..errors import Conflict, Forbidden, InvalidInput, NotFound

WAITING, ACTIVE, CLOSED = "waiting", "active", "closed"
CONVERSATION_STATES = (WAITING, ACTIVE, CLOSED)
REASONS = ("request", "misunderstood", "unsure")
OPEN, ANSWERED = "open", "answered"
TICKET_STATES = (OPEN, ANSWERED, CLOSED)
MAX_TEXT = 2000
# Outbox events (the bot's actions/helpdesk.py words them)
REPLY, HANDED_BACK, TICKET_ANSWERED = "helpdesk_reply", "helpdesk_closed", "ticket_answered"


def chat_of(identity: str) -> tuple[str, str]:
    """(channel, sender) of a channel identity such as ``web:t2001`` or ``wecom:zhangwei``."""
    channel = identity.partition(":")[0]
    if channel not in ("web", "wecom"):
        raise InvalidInput("bad_identity", "只能从网页对话或企业微信转人工")
    return channel, identity


def text_of(body: Any, field: str = "text") -> str:
    value = body.get(field) if isinstance(body, dict) else None
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput("bad_text", f"{field} 应为非空文字")
    if len(value) > MAX_TEXT:
        raise InvalidInput("bad_text", f"{field} 不能超过 {MAX_TEXT} 字")
    return value.strip()


def _notify(session: AsyncSession, event: str, user_id: int, chat: str, **facts: Any) -> None:
    session.add(OutboxMessage(event=event, recipient_id=user_id, payload={"chat": chat, **facts}))


# ---------------------------------------------------------------- the person's side (through the assistant)


async def open_conversation(session: AsyncSession, user_id: int) -> Optional[HelpdeskConversation]:
    return await session.scalar(select(HelpdeskConversation).where(HelpdeskConversation.open_for == user_id))


async def position(session: AsyncSession, conversation: HelpdeskConversation) -> int:
    """How many waiting conversations are ahead of this one (0 once taken)."""
    if conversation.status != WAITING:
        return 0
    c = HelpdeskConversation
    return await session.scalar(select(func.count()).select_from(c).where(
        c.status == WAITING, or_(c.created_at < conversation.created_at,
                                 and_(c.created_at == conversation.created_at, c.id < conversation.id)))) or 0


async def start(session: AsyncSession, user: User, identity: str, reason: str,
                now: datetime) -> HelpdeskConversation:
    """Join the queue; a person already in it (or being helped) keeps their conversation."""
    if reason not in REASONS:
        raise InvalidInput("bad_reason", "reason 应为 " + " / ".join(REASONS))
    channel, sender = chat_of(identity)
    existing = await open_conversation(session, user.id)
    if existing is not None:
        return existing
    conversation = HelpdeskConversation(sender=sender, user_id=user.id, channel=channel, reason=reason,
                                        status=WAITING, open_for=user.id, created_at=now)
    session.add(conversation)
    await session.flush()
    return conversation


async def relay(session: AsyncSession, user: User, text: str, now: datetime) -> HelpdeskConversation:
    """What the person wrote while handed off, for the console."""
    conversation = await open_conversation(session, user.id)
    if conversation is None:
        raise Conflict("no_handoff", "当前没有转人工的对话")
    session.add(HelpdeskMessage(conversation_id=conversation.id, author="user", text=text, created_at=now))
    return conversation


async def withdraw(session: AsyncSession, user: User, now: datetime) -> HelpdeskConversation:
    """The person leaves the queue (to leave a message instead); once taken, a person is on it."""
    conversation = await open_conversation(session, user.id)
    if conversation is None:
        raise Conflict("no_handoff", "当前没有转人工的对话")
    c = HelpdeskConversation
    left = await session.execute(update(c).where(c.id == conversation.id, c.status == WAITING)
                                 .values(status=CLOSED, open_for=None, closed_at=now))
    if not left.rowcount:
        raise Conflict("already_taken", "服务台已经在处理您的对话了,请直接在对话里说")
    await session.refresh(conversation)
    session.add(HelpdeskMessage(conversation_id=conversation.id, author="system", text="本人离开排队,改为留言",
                                created_at=now))
    return conversation


async def leave_ticket(session: AsyncSession, user: User, identity: str, text: str, now: datetime) -> HelpdeskTicket:
    channel, _ = chat_of(identity)
    ticket = HelpdeskTicket(user_id=user.id, channel=channel, text=text, status=OPEN, created_at=now,
                            answer=None)
    session.add(ticket)
    await session.flush()
    return ticket


# ---------------------------------------------------------------- the console's side


async def conversation_of(session: AsyncSession, conversation_id: int) -> HelpdeskConversation:
    found = await session.get(HelpdeskConversation, conversation_id)
    if found is None:
        raise NotFound("conversation_not_found", "没有找到该对话")
    return found


async def _taker_name(session: AsyncSession, conversation: HelpdeskConversation) -> str:
    if conversation.taken_by_id is None:
        return ""
    return await session.scalar(select(User.name).where(User.id == conversation.taken_by_id)) or ""


async def take(session: AsyncSession, conversation_id: int, staff: User, now: datetime) -> HelpdeskConversation:
    c = HelpdeskConversation
    taken = await session.execute(update(c).where(c.id == conversation_id, c.status == WAITING)
                                  .values(status=ACTIVE, taken_by_id=staff.id, taken_at=now))
    conversation = await conversation_of(session, conversation_id)
    if not taken.rowcount:
        if conversation.status == CLOSED:
            raise Conflict("conversation_closed", "该对话已结束")
        raise Conflict("already_taken", f"该对话已由{await _taker_name(session, conversation)}接手")
    await session.refresh(conversation)
    session.add(HelpdeskMessage(conversation_id=conversation.id, author="system", staff_id=staff.id,
                                text=f"{staff.name}已接入", created_at=now))
    return conversation


async def reply(session: AsyncSession, conversation_id: int, staff: User, text: str, now: datetime) -> HelpdeskMessage:
    conversation = await conversation_of(session, conversation_id)
    if conversation.status == CLOSED:
        raise Conflict("conversation_closed", "该对话已结束,无法回复")
    if conversation.status == WAITING:
        raise Conflict("not_taken", "请先接手该对话再回复")
    if conversation.taken_by_id != staff.id:
        raise Forbidden("not_yours", f"该对话由{await _taker_name(session, conversation)}处理")
    message = HelpdeskMessage(conversation_id=conversation.id, author="staff", staff_id=staff.id, text=text,
                              created_at=now)
    session.add(message)
    _notify(session, REPLY, conversation.user_id, conversation.sender, helpdesk_text=text, staff_name=staff.name)
    await session.flush()
    return message


async def hand_back(session: AsyncSession, conversation_id: int, staff: User, now: datetime) -> HelpdeskConversation:
    """Back to the assistant: a waiting conversation by anyone, an active one by whoever took it."""
    conversation = await conversation_of(session, conversation_id)
    if conversation.status == ACTIVE and conversation.taken_by_id != staff.id:
        raise Forbidden("not_yours", f"该对话由{await _taker_name(session, conversation)}处理")
    c = HelpdeskConversation
    closed = await session.execute(update(c).where(c.id == conversation_id, c.status == conversation.status,
                                                   c.status != CLOSED)
                                   .values(status=CLOSED, open_for=None, closed_at=now))
    if not closed.rowcount:
        raise Conflict("conversation_closed", "该对话已结束")
    await session.refresh(conversation)
    session.add(HelpdeskMessage(conversation_id=conversation.id, author="system", staff_id=staff.id,
                                text=f"{staff.name}结束了人工服务,转回校务助手", created_at=now))
    _notify(session, HANDED_BACK, conversation.user_id, conversation.sender, staff_name=staff.name)
    return conversation


async def conversations(session: AsyncSession, statuses: tuple[str, ...], limit: int = 100) -> list[dict[str, Any]]:
    c = HelpdeskConversation
    rows = (await session.scalars(select(c).where(c.status.in_(statuses)).order_by(c.created_at, c.id)
                                  .limit(limit))).all()
    names = await _names(session, {r.user_id for r in rows} | {r.taken_by_id for r in rows if r.taken_by_id})
    return [conversation_summary(r, names) for r in rows]


async def _names(session: AsyncSession, ids: set[int]) -> dict[int, tuple[str, str]]:
    if not ids:
        return {}
    rows = await session.execute(select(User.id, User.name, User.username).where(User.id.in_(ids)))
    return {row.id: (row.name, row.username) for row in rows}


def _time(value: Optional[datetime]) -> Optional[str]:
    return as_utc(value).isoformat() if value else None


def _person(user_id: Optional[int], names: dict[int, tuple[str, str]]) -> Optional[dict[str, Any]]:
    if user_id is None:
        return None
    name, username = names.get(user_id, ("", ""))
    return {"id": user_id, "name": name, "username": username}


def conversation_summary(c: HelpdeskConversation, names: dict[int, tuple[str, str]]) -> dict[str, Any]:
    return {"id": c.id, "status": c.status, "reason": c.reason, "channel": c.channel, "sender": c.sender,
            "user": _person(c.user_id, names), "taken_by": _person(c.taken_by_id, names),
            "created_at": _time(c.created_at), "taken_at": _time(c.taken_at), "closed_at": _time(c.closed_at)}


async def summary(session: AsyncSession, conversation: HelpdeskConversation) -> dict[str, Any]:
    names = await _names(session, {conversation.user_id} | ({conversation.taken_by_id} - {None}))
    return {**conversation_summary(conversation, names), "position": await position(session, conversation)}


async def messages(session: AsyncSession, conversation_id: int) -> list[dict[str, Any]]:
    m = HelpdeskMessage
    rows = (await session.scalars(select(m).where(m.conversation_id == conversation_id).order_by(m.id))).all()
    names = await _names(session, {r.staff_id for r in rows if r.staff_id})
    return [{"author": r.author, "text": r.text, "at": _time(r.created_at),
             "staff_name": names.get(r.staff_id, ("", ""))[0] if r.staff_id else None} for r in rows]


# ---------------------------------------------------------------- tickets


async def ticket_of(session: AsyncSession, ticket_id: int) -> HelpdeskTicket:
    found = await session.get(HelpdeskTicket, ticket_id)
    if found is None:
        raise NotFound("ticket_not_found", "没有找到该留言")
    return found


async def tickets(session: AsyncSession, status: Optional[str], limit: int = 100) -> list[dict[str, Any]]:
    t = HelpdeskTicket
    query = select(t).order_by(t.created_at.desc(), t.id.desc()).limit(limit)
    if status:
        query = query.where(t.status == status)
    rows = (await session.scalars(query)).all()
    names = await _names(session, {r.user_id for r in rows} | {r.answered_by_id for r in rows if r.answered_by_id})
    return [ticket_summary(r, names) for r in rows]


def ticket_summary(t: HelpdeskTicket, names: dict[int, tuple[str, str]]) -> dict[str, Any]:
    return {"id": t.id, "status": t.status, "channel": t.channel, "text": t.text, "answer": t.answer,
            "user": _person(t.user_id, names), "answered_by": _person(t.answered_by_id, names),
            "created_at": _time(t.created_at), "answered_at": _time(t.answered_at), "closed_at": _time(t.closed_at)}


async def ticket_view(session: AsyncSession, ticket: HelpdeskTicket) -> dict[str, Any]:
    return ticket_summary(ticket, await _names(session, {ticket.user_id} | ({ticket.answered_by_id} - {None})))


async def answer_ticket(session: AsyncSession, ticket_id: int, staff: User, text: str, now: datetime) -> HelpdeskTicket:
    t = HelpdeskTicket
    answered = await session.execute(update(t).where(t.id == ticket_id, t.status == OPEN)
                                     .values(status=ANSWERED, answer=text, answered_by_id=staff.id, answered_at=now))
    ticket = await ticket_of(session, ticket_id)
    if not answered.rowcount:
        raise Conflict(f"ticket_{ticket.status}", "该留言已答复" if ticket.status == ANSWERED else "该留言已关闭")
    await session.refresh(ticket)
    user = await session.get_one(User, ticket.user_id)
    # The chat the person left it in: their WeCom conversation, else the web chat.
    chat = f"wecom:{user.wecom_userid}" if ticket.channel == "wecom" and user.wecom_userid else f"web:{user.username}"
    _notify(session, TICKET_ANSWERED, ticket.user_id, chat, ticket_id=ticket.id, question=ticket.text[:200],
            helpdesk_text=text, staff_name=staff.name)
    return ticket


async def close_ticket(session: AsyncSession, ticket_id: int, now: datetime) -> HelpdeskTicket:
    t = HelpdeskTicket
    closed = await session.execute(update(t).where(t.id == ticket_id, t.status != CLOSED)
                                   .values(status=CLOSED, closed_at=now))
    ticket = await ticket_of(session, ticket_id)
    if not closed.rowcount:
        raise Conflict("ticket_closed", "该留言已关闭")
    await session.refresh(ticket)
    return ticket
