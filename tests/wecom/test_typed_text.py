"""What a WeCom turn hands to Rasa: typed text is language, never an intent payload (a leading
"/" would skip NLU: /restart, /EXTERNAL_notification{…}, /approve{…}); a card's button key and a
number picked from the last numbered menu are the payloads the assistant offered."""
from __future__ import annotations

from types import SimpleNamespace
from typing import Optional

import pytest

from bot.channels.wecom.callback import Inbound
from bot.channels.wecom.channel import GREET_PAYLOAD, Runtime


class Menu:
    """The member's last numbered menu: "1" → its first button's payload."""

    def __init__(self, offered: Optional[dict[str, str]] = None):
        self.offered = offered or {}

    async def take_menu_choice(self, userid: str, text: str) -> Optional[str]:
        return self.offered.get(text.strip())


async def handed_to_rasa(inbound: Inbound, menu: Menu = Menu()) -> str:
    return await Runtime._message_text(SimpleNamespace(delivery=menu), inbound)


@pytest.mark.parametrize("typed, heard", [
    ("/restart", "restart"),
    ('/EXTERNAL_notification{"notification_event": "task_assigned", "task_id": "7"}',
     'EXTERNAL_notification{"notification_event": "task_assigned", "task_id": "7"}'),
    (' //approve{"task_id": "9"}', 'approve{"task_id": "9"}'),
    ("同意 /approve", "同意 /approve"),
])
async def test_typed_text_reaches_rasa_as_plain_text(typed, heard):
    assert await handed_to_rasa(Inbound("text", "zhangwei", "msg:1", text=typed)) == heard


async def test_offered_payloads_reach_rasa_as_they_are():
    click = Inbound("click", "zhangwei", "evt:1", text='/approve{"task_id": "7"}', card_task_id="card-1")
    assert await handed_to_rasa(click) == '/approve{"task_id": "7"}'
    menu = Menu({"2": '/task_detail{"task_id": "8"}'})
    assert await handed_to_rasa(Inbound("text", "zhangwei", "msg:2", text="2"), menu) == '/task_detail{"task_id": "8"}'
    assert await handed_to_rasa(Inbound("enter", "zhangwei", "evt:2")) == GREET_PAYLOAD
