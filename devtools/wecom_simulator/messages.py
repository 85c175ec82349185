"""Validation of message/send bodies, with the errcodes WeCom answers for them."""
from __future__ import annotations

import re
from typing import Any

from .errors import WeComApiError

SUPPORTED = ("text", "markdown", "textcard", "news", "template_card")
# Real WeCom types the simulator does not model (they need uploaded media etc.).
NOT_SIMULATED = ("image", "voice", "video", "file", "mpnews", "miniprogram_notice", "interactive_taskcard")
CARD_TYPES = ("text_notice", "news_notice", "button_interaction", "vote_interaction", "multiple_interaction")
INTERACTIVE = ("button_interaction", "vote_interaction", "multiple_interaction")
TASK_ID = re.compile(r"^[0-9A-Za-z_\-@]{1,128}$")
TEXT_LIMIT = 2048
KEY_LIMIT = 1024


def _size(text: str) -> int:
    return len(text.encode("utf-8"))


def _require_dict(payload: dict[str, Any], name: str) -> dict[str, Any]:
    value = payload.get(name)
    if not isinstance(value, dict):
        raise WeComApiError(40058, f"{name} missing or not an object")
    return value


def _content(body: dict[str, Any]) -> None:
    content = body.get("content")
    if not isinstance(content, str) or not content.strip():
        raise WeComApiError(44004)
    if _size(content) > TEXT_LIMIT:
        raise WeComApiError(45002, f"content is {_size(content)} bytes, limit {TEXT_LIMIT}")


def _textcard(card: dict[str, Any]) -> None:
    for name in ("title", "description", "url"):
        if not isinstance(card.get(name), str) or not card[name]:
            raise WeComApiError(40058, f"textcard.{name} missing")


def _news(news: dict[str, Any]) -> None:
    articles = news.get("articles")
    if not isinstance(articles, list) or not 1 <= len(articles) <= 8:
        raise WeComApiError(40058, "news.articles must hold 1 to 8 articles")
    if any(not isinstance(a, dict) or not a.get("title") for a in articles):
        raise WeComApiError(40058, "news article title missing")


def _buttons(card: dict[str, Any]) -> None:
    buttons = card.get("button_list")
    if not isinstance(buttons, list) or not 1 <= len(buttons) <= 6:
        raise WeComApiError(40058, "button_list must hold 1 to 6 buttons")
    keys = set()
    for button in buttons:
        if not isinstance(button, dict) or not isinstance(button.get("text"), str) or not button["text"]:
            raise WeComApiError(40058, "button text missing")
        key = button.get("key")
        if not isinstance(key, str) or not key:
            raise WeComApiError(40058, "button key missing")
        if _size(key) > KEY_LIMIT:
            raise WeComApiError(40058, f"button key is {_size(key)} bytes, limit {KEY_LIMIT}")
        if key in keys:
            raise WeComApiError(40058, f"duplicate button key {key}")
        keys.add(key)
        if "style" in button and button["style"] not in (1, 2, 3, 4):
            raise WeComApiError(40058, "button style must be 1-4")


def validate_template_card(card: dict[str, Any]) -> None:
    card_type = card.get("card_type")
    if card_type not in CARD_TYPES:
        raise WeComApiError(40058, f"invalid card_type {card_type!r}")
    main_title = card.get("main_title")
    if card_type in ("text_notice", "button_interaction") and not (
            isinstance(main_title, dict) and main_title.get("title")) and not card.get("sub_title_text"):
        raise WeComApiError(40058, "main_title.title or sub_title_text required")
    if card_type == "text_notice" and not isinstance(card.get("card_action"), dict):
        raise WeComApiError(40058, "card_action required for text_notice")
    if card_type in INTERACTIVE or "task_id" in card:
        task_id = card.get("task_id")
        if not isinstance(task_id, str) or not TASK_ID.match(task_id):
            raise WeComApiError(40058, "task_id required: up to 128 of 0-9 a-z A-Z _ - @")
    if card_type == "button_interaction":
        _buttons(card)
    horizontal = card.get("horizontal_content_list")
    if horizontal is not None and (not isinstance(horizontal, list) or len(horizontal) > 6):
        raise WeComApiError(40058, "horizontal_content_list holds at most 6 items")


def validate_message(payload: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """Check the msgtype-specific part; returns (msgtype, its object). Raises WeComApiError."""
    msgtype = payload.get("msgtype")
    if msgtype not in SUPPORTED:
        hint = f"msgtype {msgtype!r} is not simulated" if msgtype in NOT_SIMULATED else None
        raise WeComApiError(40008, hint)
    body = _require_dict(payload, msgtype)
    if msgtype in ("text", "markdown"):
        _content(body)
    elif msgtype == "textcard":
        _textcard(body)
    elif msgtype == "news":
        _news(body)
    else:
        validate_template_card(body)
    return msgtype, body
