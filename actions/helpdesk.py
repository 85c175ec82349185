"""Handing a conversation to the help desk (服务台), and what the help desk sends back.

「转人工」 (or the assistant's own button after it misunderstood twice or was unsure) joins the
queue within service hours — the person is told their place — and sets ``handoff_active``:
from then on bot/handoff_policy.py sends every message here, to be relayed, and the assistant
says nothing until the help desk hands the conversation back (notification ``helpdesk_closed``).
Outside service hours the next message is left as a ticket (``ticket_pending``).
A new session (after an hour of silence) starts with ``handoff_active`` again while the help
desk still has the conversation (``action_session_start``): the person's messages keep reaching
the member of staff who is answering them.
"""
from __future__ import annotations

import logging
from typing import Any, Optional

from rasa_sdk.events import ActionExecuted, SessionStarted, SlotSet

from .backend_client import BackendError, BackendUnavailable
from .base import BaseAction, NamedAction
from .identity import identity_of
from .render import shown

HANDOFF_SLOT, TICKET_SLOT = "handoff_active", "ticket_pending"
REASONS = ("request", "misunderstood", "unsure")
NOT_NOW_INTENTS = ("deny", "cancel")  # 「不用了」 instead of a message to leave
# The queued person's button: leave the queue and a message instead (handoff_reason "ticket").
LEAVE_A_MESSAGE = {"title": "改为留言", "payload": '/request_human{"handoff_reason": "ticket"}'}
ASK_FOR_THE_MESSAGE = "请直接输入您想咨询的问题,我会留言给服务台,答复后通知您"
HELPDESK_EVENTS = ("helpdesk_reply", "helpdesk_closed", "ticket_answered")
log = logging.getLogger(__name__)


def queued_text(position: int) -> str:
    ahead = f"您前面还有 {position} 位" if position else "您是下一位"
    return (f"已为您转接服务台人工服务,{ahead},请稍候。工作人员接入后会在这里回复您;"
            "在此期间您发的消息都会转给服务台,校务助手暂不作答。")


def entity(tracker, name: str) -> Optional[str]:
    return next((str(e["value"]) for e in tracker.latest_message.get("entities") or []
                 if e.get("entity") == name and e.get("value") not in (None, "")), None)


class ActionSessionStart(NamedAction):
    """Rasa's session start (no slots carried over: bot/domain), with ``handoff_active`` set again
    while the person's conversation with the help desk is open. Says nothing, fails quietly: a
    backend that cannot answer starts the session as Rasa would."""

    action_name = "action_session_start"

    async def run(self, dispatcher, tracker, domain) -> list[dict]:
        events: list[dict] = [SessionStarted()]
        who = identity_of(tracker)
        if who is not None:
            try:
                if await self.api.current_handoff(who) is not None:
                    events.append(SlotSet(HANDOFF_SLOT, True))
            except (BackendUnavailable, BackendError) as error:
                log.warning("help desk conversation not looked up at session start: %s", error)
        return events + [ActionExecuted("action_listen")]


class ActionStartHandoff(BaseAction):
    action_name = "action_start_handoff"

    async def act(self, dispatcher, tracker, domain, who):
        if tracker.get_slot(HANDOFF_SLOT):
            dispatcher.utter_message(text="您的对话已在服务台,请稍候,工作人员会在这里回复您。")
            return []
        reason = entity(tracker, "handoff_reason")
        answer = await self.api.start_handoff(who, reason if reason in REASONS else "request")
        conversation = answer.get("conversation")
        if conversation:
            dispatcher.utter_message(text=queued_text(int(conversation.get("position") or 0)),
                                     buttons=[LEAVE_A_MESSAGE])
            return [SlotSet(HANDOFF_SLOT, True), SlotSet(TICKET_SLOT, None)]
        dispatcher.utter_message(
            text=f"服务台人工服务时间为{answer['hours']},现在不在服务时间。{ASK_FOR_THE_MESSAGE};"
                 f"着急的话也可以致电 {answer['phone']}。",
            buttons=[{"title": "不用了", "payload": "/deny"}])
        return [SlotSet(TICKET_SLOT, True)]


class ActionRelayToHelpdesk(BaseAction):
    """Says nothing: the person is talking to the help desk now."""

    action_name = "action_relay_to_helpdesk"

    async def act(self, dispatcher, tracker, domain, who):
        text = (tracker.latest_message.get("text") or "").strip()
        if not text:
            return []
        if entity(tracker, "handoff_reason") == "ticket":
            return await self._leave_a_message_instead(dispatcher, who)
        try:
            await self.api.relay_to_helpdesk(who, text[:2000])
        except BackendError as error:
            if error.code != "no_handoff":
                raise
            # Handed back while this message was on its way (the notice of it may still come).
            dispatcher.utter_message(text="服务台的人工服务已结束,接下来由校务助手为您服务。请把您的问题再说一遍。")
            return [SlotSet(HANDOFF_SLOT, False)]
        return []

    async def _leave_a_message_instead(self, dispatcher, who: str) -> list[dict]:
        try:
            await self.api.withdraw_handoff(who)
        except BackendError as error:
            if error.code == "no_handoff":
                dispatcher.utter_message(text=f"{ASK_FOR_THE_MESSAGE}。")
                return [SlotSet(HANDOFF_SLOT, False), SlotSet(TICKET_SLOT, True)]
            dispatcher.utter_message(text=error.message)  # taken meanwhile: a person is answering here
            return []
        dispatcher.utter_message(text=f"好的,已为您取消排队。{ASK_FOR_THE_MESSAGE}。",
                                 buttons=[{"title": "不用了", "payload": "/deny"}])
        return [SlotSet(HANDOFF_SLOT, False), SlotSet(TICKET_SLOT, True)]


class ActionLeaveTicket(BaseAction):
    action_name = "action_leave_ticket"

    async def act(self, dispatcher, tracker, domain, who):
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        text = (tracker.latest_message.get("text") or "").strip()
        if intent in NOT_NOW_INTENTS or not text or text.startswith("/"):
            dispatcher.utter_message(text="好的,不留言了。有问题随时问我。")
            return [SlotSet(TICKET_SLOT, None)]
        await self.api.leave_ticket(who, text[:2000])
        dispatcher.utter_message(text="已记录您的留言,服务台答复后会通知您。")
        return [SlotSet(TICKET_SLOT, None)]

    def on_failure(self, tracker) -> list[dict]:
        return [SlotSet(TICKET_SLOT, None)]


def helpdesk_notice(event: str, facts: dict[str, str]) -> tuple[Optional[str], list[dict[str, Any]]]:
    """What the person reads when the help desk writes (text), and the slots it changes."""
    staff = facts.get("staff_name", "")
    if event == "helpdesk_reply":
        return f"💬 服务台{staff}:{facts.get('helpdesk_text', '')}", []
    if event == "helpdesk_closed":
        return (f"服务台{staff}已结束人工服务,接下来由校务助手继续为您服务。",
                [SlotSet(HANDOFF_SLOT, False)])
    if event == "ticket_answered":
        question = shown(facts.get("question", ""))
        return f"📮 您的留言「{question}」服务台已答复:\n{facts.get('helpdesk_text', '')}", []
    return None, []
