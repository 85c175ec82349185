"""Who the user is, from the conversation's channel identity only.

Channels set the sender id from something the user cannot forge: the WeCom channel
uses ``wecom:<userid>`` from the decrypted callback, the web chat ``web:<username>``
from a verified token. Anything else gets no data.
"""
from __future__ import annotations

from typing import Optional

from rasa_sdk import Tracker

TRUSTED_PREFIXES = ("wecom:", "web:")


def identity_of(tracker: Tracker) -> Optional[str]:
    sender = tracker.sender_id or ""
    prefix = next((p for p in TRUSTED_PREFIXES if sender.startswith(p)), None)
    if prefix is None or len(sender) == len(prefix) or len(sender) > 128:
        return None
    return sender
