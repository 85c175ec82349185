"""A handed-off conversation as the console shows it: what the person and the assistant said
before the handoff (Rasa's tracker), then what was said with the help desk (our messages)."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Optional


def before_handoff(events: list[dict[str, Any]], handed_off: datetime, keep: int = 30) -> list[dict[str, Any]]:
    """The last ``keep`` user and assistant lines before the handoff; notifications the backend
    pushed (intents EXTERNAL_…) are not things the person said."""
    until = handed_off.timestamp()
    lines = []
    for event in events:
        stamp = event.get("timestamp")
        if not isinstance(stamp, (int, float)) or stamp >= until or not event.get("text"):
            continue
        if event.get("event") == "user":
            intent = ((event.get("parse_data") or {}).get("intent") or {}).get("name") or ""
            if intent.startswith("EXTERNAL_"):
                continue
            lines.append({"author": "user", "text": event["text"], "at": _at(stamp)})
        elif event.get("event") == "bot":
            lines.append({"author": "assistant", "text": event["text"], "at": _at(stamp)})
    return lines[-keep:]


def _at(stamp: float) -> str:
    return datetime.fromtimestamp(stamp, timezone.utc).isoformat()


def transcript(events: Optional[list[dict[str, Any]]], handed_off: datetime,
               messages: list[dict[str, Any]]) -> dict[str, Any]:
    """``events`` None: the assistant's record could not be read (the console says so)."""
    return {"assistant_available": events is not None,
            "lines": (before_handoff(events, handed_off) if events else []) + messages}
