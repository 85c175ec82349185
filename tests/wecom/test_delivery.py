"""Sending a turn through the simulator: merged sends, menus for the next reply, card outcomes, quota."""
from __future__ import annotations

import aiohttp
import pytest

from bot.channels.wecom.callback import Inbound
from bot.channels.wecom.delivery import Delivery, RateLimited, SendRateLimiter
from bot.channels.wecom.store import MemoryStore
from wecom_api import WeComClient


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def delivery(simulator):
    c = simulator.credentials
    async with aiohttp.ClientSession() as session:
        client = WeComClient(simulator.api_base, c["WECOM_CORP_ID"], c["WECOM_SECRET"], session,
                             agent_id=int(c["WECOM_AGENT_ID"]))
        yield Delivery(client, MemoryStore())


def sent(simulator, userid: str) -> list[dict]:
    return simulator.control("GET", f"messages?touser={userid}")["messages"]


def test_the_limiter_waits_for_the_oldest_send_of_the_minute_to_age_out():
    clock = Clock()
    limiter = SendRateLimiter(per_minute=3, clock=clock)
    for _ in range(3):
        assert limiter.wait_seconds("u") == 0
        limiter.record("u")
        clock.now += 10
    assert limiter.wait_seconds("u") == pytest.approx(30)
    assert limiter.wait_seconds("other") == 0
    clock.now += 30
    assert limiter.wait_seconds("u") == 0


async def test_a_turn_goes_out_as_one_text_and_one_card(simulator, delivery):
    before = len(sent(simulator, "liming"))
    await delivery.send_turn("liming", [
        {"recipient_id": "wecom:liming", "text": "第一句"}, {"recipient_id": "wecom:liming", "text": "第二句"},
        {"recipient_id": "wecom:liming", "text": "请选择", "buttons": [{"title": "好", "payload": "/affirm"}]}],
        max_wait=1)
    new = sent(simulator, "liming")[before:]
    assert [m["msgtype"] for m in new] == ["text", "template_card"]
    assert new[0]["body"]["content"] == "第一句\n\n第二句"


async def test_a_menu_answers_only_the_very_next_reply(delivery):
    buttons = [{"title": f"第{i}项", "payload": f"/pick{{\"n\": \"{i}\"}}"} for i in range(1, 9)]
    await delivery.send_turn("wuhao", [{"recipient_id": "wecom:wuhao", "text": "选一个", "buttons": buttons}], 1)
    assert await delivery.take_menu_choice("wuhao", "8") == '/pick{"n": "8"}'
    assert await delivery.take_menu_choice("wuhao", "8") is None  # used up
    await delivery.send_turn("wuhao", [{"recipient_id": "wecom:wuhao", "text": "选一个", "buttons": buttons}], 1)
    await delivery.send_turn("wuhao", [{"recipient_id": "wecom:wuhao", "text": "要几份?"}], 1)
    assert await delivery.take_menu_choice("wuhao", "2") is None  # "2" now answers the question, not the menu


async def test_a_clicked_card_shows_the_stated_outcome_and_time(simulator, delivery):
    turn = await delivery.send_turn("yangfan", [{"recipient_id": "wecom:yangfan", "text": "新的待办",
                                                 "buttons": [{"title": "同意", "payload": '/approve{"task_id": "7"}'}]}],
                                    max_wait=1)
    task_id = turn.cards[0].task_id
    code = simulator.control("POST", "click", {"userid": "yangfan", "task_id": task_id,
                                               "key": '/approve{"task_id": "7"}'})["response_code"]
    await delivery.close_card(Inbound("click", "yangfan", "k", '/approve{"task_id": "7"}', task_id, code), "已同意")
    card = next(m for m in sent(simulator, "yangfan") if m["body"].get("task_id") == task_id)
    assert card["card_update"]["button"]["replace_name"].startswith("已同意 · 20")


async def test_a_member_over_quota_is_refused_rather_than_silently_dropped(delivery):
    clock = Clock()
    delivery.limiter = SendRateLimiter(per_minute=2, clock=clock)
    message = [{"recipient_id": "wecom:hujun", "text": "提醒"}]
    await delivery.send_turn("hujun", message, max_wait=0)
    await delivery.send_turn("hujun", message, max_wait=0)
    with pytest.raises(RateLimited):
        await delivery.send_turn("hujun", message, max_wait=5)


async def test_an_attachment_question_is_remembered_until_another_question_is_sent(delivery):
    asked = {"matter": "staff_leave", "field": "proof", "label": "证明材料"}
    await delivery.send_turn("zhangwei", [{"text": "(7/7)请填写「证明材料」", "custom": {"attachment_question": asked}}], 5)
    assert await delivery.asked_for_attachment("zhangwei") == asked
    assert await delivery.asked_for_attachment("lisi") is None
    await delivery.send_turn("zhangwei", [{"text": "请确认以下信息"}], 5)
    assert await delivery.asked_for_attachment("zhangwei") is None
