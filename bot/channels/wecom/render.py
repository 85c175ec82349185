"""Turn one bot turn's Rasa messages into as few WeCom message/send bodies as possible.

WeCom limits each member to 30 messages a minute and drops the excess silently, so
consecutive texts are merged into one send (split on line boundaries when it passes
2048 bytes, WeCom's text limit). A message with buttons becomes a ``template_card`` of
type ``button_interaction`` (at most 6 buttons, each key = the button's Rasa payload,
≤ 1024 bytes); buttons that do not fit become a numbered text menu the user answers
with the number. Pure functions: no I/O.

A message that names a ``delivery_key`` (custom data; notifications name their outbox
row) renders the same every time: its cards get task ids from the key, and its sends
ask WeCom's duplicate check, so a push tried again after a timeout — WeCom may have
delivered the first try — is not shown twice. A message with ``progress_diagram`` (custom
data: the hall's progress page of an application) gets a 「查看流程图」 link to that page when
the hall's public address is known (BACKEND_PUBLIC_URL): through the hall's WeCom sign-in
entry, so it opens signed in. A card whose message names a ``task_page`` (a notification's
task, /tasks/<id>) opens that page of the hall when tapped, the same way. Other custom data is
not rendered.
"""
from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from typing import Any, Optional
from urllib.parse import quote

MAX_TEXT_BYTES = 2048
MAX_BUTTONS = 6
MAX_KEY_BYTES = 1024
MAX_BUTTON_TITLE = 20       # characters; longer titles would be cut on the phone
MAX_TITLE = 36              # main_title.title, characters
MAX_SUB_TITLE = 160         # sub_title_text, characters
MAX_FIELDS = 6              # horizontal_content_list items
MAX_FIELD_VALUE = 30
OUTCOME_KEY = "decision_outcome"  # stated by actions/tasks.py with every decision
DELIVERY_KEY = "delivery_key"      # stated by actions/notifications.py: the outbox row
DUPLICATE_CHECK = {"enable_duplicate_check": 1, "duplicate_check_interval": 4 * 3600}  # WeCom's maximum
CARD_FALLBACK_TITLE = "请选择"
MENU_HINT = "回复数字即可选择,例如「1」。"
# "申请人:张伟" → a key/value row of the card (WeCom shows up to 5-character key names).
FIELD_LINE = re.compile(r"^\s*([^\s:：]{1,5})\s*[:：]\s*(\S.*)$")
PROGRESS_DIAGRAM = "progress_diagram"  # stated by actions/applications.py
DIAGRAM_PATH = re.compile(r"^/applications/\d+/progress$")  # a page of the hall, nothing else
TASK_PAGE = "task_page"  # stated by actions/notifications.py with a task's card
TASK_PATH = re.compile(r"^/tasks(/\d+)?$")  # a task, or the 待办 list (the morning digest's card)
WECOM_ENTRY = "/wecom/enter"  # the hall's sign-in from inside WeCom (backend/web/pages/wecom_sign_in.py)


@dataclass
class Card:
    task_id: str
    buttons: dict[str, str]  # key (payload) → button text, to describe a click later


@dataclass
class RenderedTurn:
    sends: list[dict[str, Any]] = field(default_factory=list)   # message/send bodies without touser/agentid
    cards: list[Card] = field(default_factory=list)
    menu: Optional[dict[str, str]] = None                       # "1" → payload of the last numbered menu
    attachment_question: Optional[dict[str, Any]] = None        # the turn asks for a file (uploads.py)


def new_card_task_id() -> str:
    return "card-" + uuid.uuid4().hex  # unique per app, far below 128 bytes


def delivery_key(messages: list[dict[str, Any]]) -> Optional[str]:
    keys = [str(m["custom"][DELIVERY_KEY]) for m in messages
            if isinstance(m.get("custom"), dict) and m["custom"].get(DELIVERY_KEY)]
    return keys[0] if keys else None


ATTACHMENT_QUESTION = "attachment_question"


def attachment_question(messages: list[dict[str, Any]]) -> Optional[dict[str, Any]]:
    """The attachment question a turn's messages end with, if any."""
    for message in reversed(messages):
        custom = message.get("custom")
        if isinstance(custom, dict) and isinstance(custom.get(ATTACHMENT_QUESTION), dict):
            return custom[ATTACHMENT_QUESTION]
    return None


def render_turn(messages: list[dict[str, Any]], hall_url: Optional[str] = None) -> RenderedTurn:
    """``hall_url``: the hall's public address, for links to its pages (none without it)."""
    turn = RenderedTurn(attachment_question=attachment_question(messages))
    key = delivery_key(messages)
    pending: list[str] = []  # texts waiting to be merged into one send
    for message in messages:
        text = message_text(message)
        buttons = [b for b in message.get("buttons") or message.get("quick_replies") or [] if b.get("payload")]
        if not buttons:
            link = diagram_link(message, hall_url)
            text = "\n".join(part for part in (text, link) if part)
            if text:
                pending.append(text)
        elif buttons_fit_card(buttons):
            task_id = f"{key}-{len(turn.cards)}" if key else new_card_task_id()
            card_body, card = build_card(text, buttons, pending, task_id)
            page = hall_page(message, TASK_PAGE, TASK_PATH, hall_url)
            if page:  # tapping the card opens the task (or the list) in the hall, signed in
                card["template_card"]["card_action"] = {"type": 1, "url": page}
            turn.sends += text_sends(card_body)
            turn.sends.append(card)
            turn.cards.append(Card(card["template_card"]["task_id"], {b["payload"]: b["title"] for b in buttons}))
            pending = []
        else:
            menu_text, turn.menu = numbered_menu(text, buttons)
            pending.append(menu_text)
    turn.sends += text_sends("\n\n".join(pending))
    if key:
        turn.sends = [{**body, **DUPLICATE_CHECK} for body in turn.sends]
    return turn


def hall_page(message: dict[str, Any], key: str, shape: re.Pattern, hall_url: Optional[str]) -> str:
    """The hall's page a message names in its custom data (``{key: path}`` or ``{key: {"path": …}}``),
    as a URL through the hall's WeCom sign-in; "" without the hall's address or for another path."""
    custom = message.get("custom")
    named = custom.get(key) if isinstance(custom, dict) else None
    path = named.get("path") if isinstance(named, dict) else named
    if not hall_url or not isinstance(path, str) or not shape.match(path):
        return ""
    return f'{hall_url.rstrip("/")}{WECOM_ENTRY}?next={quote(path, safe="")}'


def diagram_link(message: dict[str, Any], hall_url: Optional[str]) -> str:
    """「查看流程图」 as a link WeCom shows in a text (an <a> tag), opening the hall signed in."""
    url = hall_page(message, PROGRESS_DIAGRAM, DIAGRAM_PATH, hall_url)
    return f'<a href="{url}">查看流程图</a>' if url else ""


def stated_outcome(messages: list[dict[str, Any]]) -> Optional[str]:
    """The outcome a decision stated with json_message={"decision_outcome": "已同意"}, if any."""
    outcomes = [str(m["custom"][OUTCOME_KEY]) for m in messages
                if isinstance(m.get("custom"), dict) and m["custom"].get(OUTCOME_KEY)]
    return outcomes[-1] if outcomes else None


def message_text(message: dict[str, Any]) -> str:
    parts = [message.get("text") or ""]
    if message.get("image"):
        parts.append(f"图片:{message['image']}")
    attachment = message.get("attachment")
    if attachment:
        parts.append(f"附件:{attachment.get('payload', {}).get('src', '') if isinstance(attachment, dict) else attachment}")
    return "\n".join(p for p in parts if p).strip()


def buttons_fit_card(buttons: list[dict[str, Any]]) -> bool:
    return len(buttons) <= MAX_BUTTONS and all(
        len(b["payload"].encode()) <= MAX_KEY_BYTES and 0 < len(b.get("title") or "") <= MAX_BUTTON_TITLE
        for b in buttons)


def card_lines(text: str) -> list[str]:
    """The text's non-blank lines, cut at every line break Python knows (\r, \u2028 … too),
    so no character left inside a line can show as a line break on the phone."""
    return [line for line in text.splitlines() if line.strip()]


def build_card(text: str, buttons: list[dict[str, Any]], before: list[str],
               task_id: str) -> tuple[str, dict[str, Any]]:
    """The card for a message with buttons, and the text to send before it (earlier texts, long bodies).

    The card's fields are the first run of 「key:value」 lines only: once a field run has ended,
    a line that looks like a field is body text. What people typed (a form's text, an opinion)
    comes after the fields the bot states, so a line break in it cannot add a fake field."""
    lines = card_lines(text)
    titled = bool(lines) and len(lines[0].strip()) <= MAX_TITLE  # else the whole text is the body
    title, rest = (lines[0].strip(), lines[1:]) if titled else (CARD_FALLBACK_TITLE, lines)
    fields: list[dict[str, str]] = []
    body: list[str] = []
    run_ended = False
    for line in rest:
        match = None if run_ended else FIELD_LINE.match(line)
        if match and len(fields) < MAX_FIELDS and len(match.group(2)) <= MAX_FIELD_VALUE:
            fields.append({"keyname": match.group(1), "value": match.group(2).strip()})
        else:
            body.append(line)
            run_ended = bool(fields)
    body_text = "\n".join(body)
    send_before = list(before)
    card: dict[str, Any] = {"card_type": "button_interaction", "main_title": {"title": title},
                            "task_id": task_id}
    if body_text and len(body_text) <= MAX_SUB_TITLE:
        card["sub_title_text"] = body_text
    elif body_text:  # too long for the card: it goes just before, in the same merged text
        send_before.append(f"{title}\n{body_text}" if titled else body_text)
    if fields:
        card["horizontal_content_list"] = fields
    card["button_list"] = [{"text": b["title"], "style": 1 if i == 0 else 2, "key": b["payload"]}
                           for i, b in enumerate(buttons)]
    return "\n\n".join(send_before), {"msgtype": "template_card", "template_card": card}


def numbered_menu(text: str, buttons: list[dict[str, Any]]) -> tuple[str, dict[str, str]]:
    lines = [text] if text else []
    lines += [f"{i}. {b.get('title') or b['payload']}" for i, b in enumerate(buttons, start=1)]
    lines.append(MENU_HINT)
    return "\n".join(lines), {str(i): b["payload"] for i, b in enumerate(buttons, start=1)}


def text_sends(text: str) -> list[dict[str, Any]]:
    return [{"msgtype": "text", "text": {"content": chunk}} for chunk in split_text(text)]


def split_text(text: str, limit: int = MAX_TEXT_BYTES) -> list[str]:
    """Chunks of at most ``limit`` UTF-8 bytes, cut between lines (inside a line only if it alone is too long)."""
    chunks: list[str] = []
    lines: list[str] = []
    size = 0
    for line in text.split("\n"):
        for piece in _cut_line(line, limit):
            cost = len(piece.encode()) + (1 if lines else 0)
            if lines and size + cost > limit:
                chunks.append("\n".join(lines))
                lines, size, cost = [], 0, len(piece.encode())
            lines.append(piece)
            size += cost
    chunks.append("\n".join(lines))
    return [c.strip("\n") for c in chunks if c.strip()]


def _cut_line(line: str, limit: int) -> list[str]:
    if len(line.encode()) <= limit:
        return [line]
    pieces, current, size = [], [], 0
    for char in line:  # whole characters only: never a broken UTF-8 sequence
        width = len(char.encode())
        if size + width > limit:
            pieces.append("".join(current))
            current, size = [], 0
        current.append(char)
        size += width
    pieces.append("".join(current))
    return pieces


def menu_choice(text: str, menu: Optional[dict[str, str]]) -> Optional[str]:
    """The payload a bare number ("2", full-width "２") picks from the last numbered menu."""
    if not menu:
        return None
    number = text.strip().translate(FULL_WIDTH_DIGITS).lstrip("0")
    return menu.get(number)


FULL_WIDTH_DIGITS = str.maketrans("０１２３４５６７８９", "0123456789")
