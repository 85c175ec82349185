"""The morning digest as the bot shows it (actions/notifications.py): the count, how long the
oldest waited, the oldest items, 「查看待办」 (the list_tasks payload) and 「处理最早的」; in
WeCom a card whose tap opens the hall's 待办 list; nothing when nothing waits."""
import json

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.notifications import ActionDeliverNotification, digest_message
from bot.channels.wecom.render import render_turn

OLDEST = [
    {"task_id": 31, "number": "SW20261127-0001", "matter": "公章使用申请", "applicant": "张伟", "waited_hours": 95},
    {"task_id": 35, "number": "SW20261128-0002", "matter": "请假申请(教职工)", "applicant": "李明", "waited_hours": 47},
    {"task_id": 40, "number": "SW20261201-0003", "matter": "公务用车", "applicant": "王丽华", "waited_hours": 5},
]
FACTS = {"notification_event": "approver_digest", "outbox_id": "21", "pending_count": "5",
         "digest_oldest": json.dumps(OLDEST, ensure_ascii=False)}


async def deliver(entities, seen=None):
    latest = {"intent": {"name": "EXTERNAL_notification"}, "text": None,
              "entities": [{"entity": k, "value": v} for k, v in entities.items()]}
    tracker = Tracker("wecom:shenliqun", {"notified_outbox_ids": seen}, latest, [], False, None, {}, "action_listen")
    dispatcher = CollectingDispatcher()
    events = await ActionDeliverNotification(None).run(dispatcher, tracker, {})
    return dispatcher.messages, events


def test_the_digest_says_the_count_the_oldest_wait_and_lists_the_oldest_three():
    text, buttons = digest_message(FACTS)
    assert text.splitlines() == [
        "☀️ 早上好,您有 5 项待办,最早的已等待 3 天:",
        "1. 【公章使用申请】张伟 · SW20261127-0001 · 已等待 3 天",
        "2. 【请假申请(教职工)】李明 · SW20261128-0002 · 已等待 1 天",
        "3. 【公务用车】王丽华 · SW20261201-0003 · 已等待 5 小时",
        "另有 2 项,点「查看待办」看全部。"]
    assert buttons == [{"title": "查看待办", "payload": "/list_tasks"},
                       {"title": "处理最早的", "payload": '/task_detail{"task_id": "31"}'}]


def test_with_all_of_them_named_there_is_no_more_line():
    text, _ = digest_message({**FACTS, "pending_count": "1", "digest_oldest": json.dumps(OLDEST[2:])})
    assert text.splitlines() == ["☀️ 早上好,您有 1 项待办,最早的已等待 5 小时:",
                                 "1. 【公务用车】王丽华 · SW20261201-0003 · 已等待 5 小时"]


async def test_it_is_shown_once_with_the_list_page_and_remembered():
    messages, events = await deliver(FACTS, seen=["3"])
    [message] = messages
    assert message["text"].startswith("☀️ 早上好,您有 5 项待办")
    assert [b["title"] for b in message["buttons"]] == ["查看待办", "处理最早的"]
    assert message["custom"] == {"delivery_key": "outbox-21", "task_page": "/tasks"}
    assert events == [{"event": "slot", "timestamp": None, "name": "notified_outbox_ids", "value": ["3", "21"]}]
    assert await deliver(FACTS, seen=["3", "21"]) == ([], [])  # a repeated delivery


async def test_nothing_pending_or_a_broken_payload_says_nothing_but_is_marked_shown():
    for facts in ({**FACTS, "pending_count": "0"}, {**FACTS, "digest_oldest": "{not json"},
                  {"notification_event": "approver_digest", "outbox_id": "21"}):
        messages, events = await deliver(facts)
        assert messages == []
        assert events == [{"event": "slot", "timestamp": None, "name": "notified_outbox_ids", "value": ["21"]}]


async def test_in_wecom_it_is_a_card_with_the_buttons_whose_tap_opens_the_task_list():
    messages, _ = await deliver(FACTS)
    turn = render_turn([{**messages[0], "custom": messages[0]["custom"]}], hall_url="https://hall.example.edu.cn")
    card = turn.sends[-1]["template_card"]
    assert card["main_title"]["title"] == "☀️ 早上好,您有 5 项待办,最早的已等待 3 天:"
    assert [(b["text"], b["key"]) for b in card["button_list"]] == [
        ("查看待办", "/list_tasks"), ("处理最早的", '/task_detail{"task_id": "31"}')]
    assert card["card_action"]["url"] == "https://hall.example.edu.cn/wecom/enter?next=%2Ftasks"
    assert "SW20261127-0001" in json.dumps(turn.sends, ensure_ascii=False)
