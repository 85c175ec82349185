"""A person who changes course in the middle of a form (「算了,我要申请盖章」 while asked for
请假类型): the answer is recognised as a request for another matter, and switching is offered —
it is never taken silently, and the answers so far are said plainly to be dropped.

The offer waits in the slot ``switch_to`` ({code, name, text}); the next message takes it
(切换 / 好的) or declines it (继续填写); anything else is an answer to the question again.
The answers of the form left behind are kept in ``left_form`` ({code, name, data}) for the rest of
the conversation: asking for that matter again takes them up (``taken_up``).
"""
from __future__ import annotations

import re
from typing import Any, Optional

from rasa_sdk import Tracker

from .backend_client import BackendClient

SWITCH_SLOT = "switch_to"
LEFT_SLOT = "left_form"
# A matter found this well in the message: one of its keywords or its name (catalog search scores).
MIN_SCORE = 3
# The NLU's confidence that the message asks for a matter, for an answer that is not an option.
MIN_CONFIDENCE = 0.5
FREE_TEXT = ("text", "textarea")
# In a free-text answer a request must also say that the person is changing course: a reason
# such as 「带学生去杭州演出需要用车」 names a matter and is still an answer.
CHANGE_OF_MIND = re.compile(r"算了|不请了|不办了|不用了|不要了|不借了|不填了|不弄了|改为|改成|换成|还是|先办|先申请")
TAKE = {"切换", "好", "好的", "是", "是的", "对", "嗯", "确定", "可以", "行", "换", "切换吧", "/affirm"}
DECLINE = re.compile(r"^(继续|接着|不切换|不换|不用切换|不要切换|/deny$)")


def asks_for_a_matter(tracker: Tracker) -> bool:
    intent = tracker.latest_message.get("intent") or {}
    return intent.get("name") == "request_matter" and (intent.get("confidence") or 0) >= MIN_CONFIDENCE


async def requested_matter(api: BackendClient, who: str, text: str, current: str) -> Optional[dict[str, Any]]:
    """The one matter other than ``current`` the text clearly asks for, else None."""
    if not text or text.lstrip().startswith("/"):
        return None
    found = await api.search_matters(who, text)
    if not found or found[0].get("score", 0) < MIN_SCORE:
        return None
    leaders = [m for m in found if m.get("score", 0) == found[0].get("score", 0)]
    if len(leaders) != 1 or leaders[0]["code"] == current:
        return None
    return {"code": leaders[0]["code"], "name": leaders[0]["name"], "text": text}


async def switch_request(api: BackendClient, who: str, tracker: Tracker, field_type: str, text: str,
                         current: str, refused: bool) -> Optional[dict[str, Any]]:
    """A matter to offer instead of taking ``text`` as the answer. A free-text answer must say it
    changes course and read as a request; another answer only when it is no answer (``refused``:
    not an option, not a number or a date …)."""
    if field_type in FREE_TEXT:
        if not (CHANGE_OF_MIND.search(text) and asks_for_a_matter(tracker)):
            return None
    elif not refused:
        return None
    return await requested_matter(api, who, text, current)


def reply_to_offer(text: str) -> Optional[str]:
    """"take", "decline" or None (neither: the message is an answer to the question)."""
    typed = (text or "").strip().strip("。.!!")
    if typed in TAKE:
        return "take"
    if DECLINE.match(typed):
        return "decline"
    return None


def offer(current_name: str, target: dict[str, Any], left: Optional[dict[str, Any]],
          answered: bool) -> tuple[str, list[dict[str, str]]]:
    """Says plainly what becomes of the answers so far: kept for later (``left``, see
    ``left_behind``), dropped (a resubmission's), or that there are none yet."""
    text = f"要改为办理《{target['name']}》吗?{fate(current_name, left, answered, will=True)}"
    return text, [{"title": "切换", "payload": "/affirm"}, {"title": f"继续填写《{current_name}》", "payload": "/deny"}]


def fate(name: str, left: Optional[dict[str, Any]], answered: bool, will: bool) -> str:
    if left:
        return f"已填的《{name}》信息{'会先' if will else '已'}保留,本次对话中再说要办《{name}》即可接着填。"
    if answered:
        return f"已填的《{name}》信息{'将不保存' if will else '没有保存'}。"
    return f"《{name}》还没有填写任何内容。"


def left_behind(code: str, name: str, data: dict[str, Any], resubmit_id: Any) -> Optional[dict[str, Any]]:
    """What ``left_form`` keeps of a form left for another matter (nothing of a resubmission or of
    a form with no answers yet)."""
    if resubmit_id or not data:
        return None
    return {"code": code, "name": name, "data": data}


def taken_up(left: Any, code: str) -> dict[str, Any]:
    """The kept answers when ``code`` is the matter left behind, else none."""
    if isinstance(left, dict) and left.get("code") == code and isinstance(left.get("data"), dict):
        return dict(left["data"])
    return {}
