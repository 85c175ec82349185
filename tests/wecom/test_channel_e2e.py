"""The wecom channel end to end: the simulator plays WeCom (real signatures and AES) against
real Rasa + action server + backend, and we check what users received and what the backend holds."""
from __future__ import annotations

import os
import signal
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from devtools.stack import Stack
from tests.support.chat import submit_leave

from tests.support.dates import college_now
from tests.support.wecom import (click, content_of, deliver, last_id, say, sent_before_a_greeting, sent_to,
                                 text_message, user_turns, wait_for_sends)


def pending_task(stack: Stack, approver: str, number: str) -> dict[str, Any]:
    status, tasks = stack.api(approver, "GET", "/tasks")
    assert status == 200, tasks
    return next(t for t in tasks["items"] if t["number"] == number)


def pending_task_ids(stack: Stack, approver: str) -> set[int]:
    status, tasks = stack.api(approver, "GET", "/tasks")
    return {t["id"] for t in tasks["items"]}


# ------------------------------------------------------------------ the callback URL


def test_url_verification_answers_the_echostr(wecom_stack):
    status, answer = wecom_stack.sim("POST", "verify", {"signature_ok": True})
    assert status == 200 and answer["verified"] is True, answer
    status, answer = wecom_stack.sim("POST", "verify", {"signature_ok": False})
    assert answer["status"] == 403 and answer["verified"] is False, answer


def test_forged_foreign_malformed_and_oversized_callbacks_are_rejected_and_reach_nobody(wecom_stack):
    userid = "fengyaqin"
    before = last_id(wecom_stack, userid)
    xml = text_message(wecom_stack, userid, "我有什么待办", 9_000_000_000_000_000_001)
    assert deliver(wecom_stack, xml=xml, signature_ok=False)["statuses"] == [403]
    assert deliver(wecom_stack, xml=xml, corp_id="wwanothercorp0001")["statuses"] == [403]
    assert deliver(wecom_stack, xml="<xml><FromUserName>fengyaqin</From")["statuses"] == [400]
    assert deliver(wecom_stack, body="<xml><Encrypt>unterminated")["statuses"] == [400]
    assert deliver(wecom_stack, body="<xml>" + "x" * (70 * 1024) + "</xml>")["statuses"] == [413]
    # …and the channel still serves real users afterwards, whose greeting comes after any answer to those.
    assert sent_before_a_greeting(wecom_stack, userid, before) == []
    assert "我有什么待办" not in user_turns(wecom_stack, userid)


# ------------------------------------------------------------------ conversations


def test_a_user_submits_a_matter_by_chat_and_the_backend_has_it(wecom_stack):
    stack, userid = wecom_stack, "zhangwei"
    status, mine = stack.api("t2001", "GET", "/applications?mine=1&limit=50")
    before = {a["id"] for a in mine["items"]}
    reply = say(stack, userid, "我要盖章")
    assert "印章类型" in content_of(reply)
    card = next(m for m in reply if m["msgtype"] == "template_card")
    assert "学校公章" in [b["text"] for b in card["body"]["button_list"]]
    assert "文件名称" in content_of(click(stack, userid, card, "学校公章"))  # a tap answers the question
    assert "份数" in content_of(say(stack, userid, "2026年合作协议"))
    assert "用印日期" in content_of(say(stack, userid, "两份"))
    assert "用印事由" in content_of(say(stack, userid, "明天"))
    assert "用印文件" in content_of(say(stack, userid, "与杭州剧院签订演出合作协议"))
    assert "沈立群" in content_of(say(stack, userid, "合作协议.pdf"))
    assert "请确认" in content_of(say(stack, userid, "沈立群"))
    done = content_of(say(stack, userid, "确认"))
    assert "已提交" in done
    status, mine = stack.api("t2001", "GET", "/applications?mine=1&limit=50")
    created = [a for a in mine["items"] if a["id"] not in before]
    assert len(created) == 1 and created[0]["number"] in done
    status, detail = stack.api("t2001", "GET", f"/applications/{created[0]['id']}")
    assert detail["form"]["seal_type"] == "学校公章" and detail["form"]["copies"] == 2
    assert detail["approvers"] == {"leader": "t0002"}
    card_after_click = next(m for m in sent_to(stack, userid) if m["id"] == card["id"])
    assert card_after_click["card_update"]["button"]["replace_name"].startswith("已选择「学校公章」 · ")


def test_buttons_render_as_a_card_and_a_click_acts_and_closes_the_card(wecom_stack):
    stack, userid = wecom_stack, "tangting"
    reply = say(stack, userid, "你好")
    assert [m["msgtype"] for m in reply] == ["template_card"]  # text and buttons in one send
    card = reply[0]["body"]
    assert card["card_type"] == "button_interaction" and "校务助手" in content_of(reply)
    keys = {b["text"]: b["key"] for b in card["button_list"]}
    assert keys["我的待办"] == "/list_tasks"
    assert "待办" in content_of(click(stack, userid, reply[0], "我的待办"))
    update = next(m for m in sent_to(stack, userid) if m["id"] == reply[0]["id"])["card_update"]
    stamp = college_now().strftime("%Y-%m-%d ")
    assert update["button"]["replace_name"].startswith(f"已选择「我的待办」 · {stamp}")


def test_entering_the_app_greets_with_the_menu(wecom_stack):
    after = last_id(wecom_stack, "wanglihua")
    status, delivery = wecom_stack.sim("POST", "event", {"userid": "wanglihua", "event": "enter_agent"})
    assert status == 200 and delivery["statuses"] == [200]
    reply = wait_for_sends(wecom_stack, "wanglihua", after)
    assert "校务助手" in content_of(reply) and "我的待办" in content_of(reply)


def test_pictures_and_files_get_a_polite_request_for_text(wecom_stack):
    userid = "sumuyang"
    after = last_id(wecom_stack, userid)
    image = (f"<xml><ToUserName>x</ToUserName><FromUserName>{userid}</FromUserName>"
             f"<CreateTime>{int(time.time())}</CreateTime><MsgType>image</MsgType><PicUrl>http://p/1.jpg</PicUrl>"
             f"<MediaId>m1</MediaId><MsgId>{uuid.uuid4().int % 10**18}</MsgId><AgentID>1000002</AgentID></xml>")
    assert deliver(wecom_stack, xml=image)["statuses"] == [200]
    assert "请发文字" in content_of(wait_for_sends(wecom_stack, userid, after))
    assert user_turns(wecom_stack, userid) == []  # nothing for the bot to understand


def test_more_than_six_buttons_become_a_numbered_menu_answered_by_number(wecom_stack):
    stack, userid = wecom_stack, "pengyuhang"
    leave = submit_leave(stack, "t2202")
    task = pending_task(stack, "t2201", leave["number"])
    status, _ = stack.api("t2201", "POST", f"/tasks/{task['id']}/return", {"opinion": "请写明交接安排"})
    assert status == 200
    reply = say(stack, userid, "重新提交")
    # 请假类型: six options + 「保持不变」 = seven buttons, more than a card holds.
    assert all(m["msgtype"] == "text" for m in reply)
    menu = content_of(reply)
    assert "1. 事假" in menu and "7. 保持不变" in menu and "回复数字" in menu
    assert "开始时间" in content_of(say(stack, userid, "7"))
    assert "已取消" in content_of(say(stack, userid, "算了"))
    status, detail = stack.api("t2202", "GET", f"/applications/{leave['id']}")
    assert detail["status"] == "returned"


# ------------------------------------------------------------------ delivery guarantees


def test_the_same_msgid_delivered_three_times_is_processed_once(wecom_stack):
    stack, userid = wecom_stack, "zengzhiyuan"
    leave = submit_leave(stack, "t2302")
    task = pending_task(stack, "t2301", leave["number"])
    after = last_id(stack, userid)
    xml = text_message(stack, userid, f"同意 {leave['number']} 情况属实", uuid.uuid4().int % 10**18)
    with ThreadPoolExecutor(3) as pool:  # WeCom's retries may overlap the first try
        results = list(pool.map(lambda _: deliver(stack, xml=xml), range(3)))
    assert [r["statuses"] for r in results] == [[200]] * 3
    replies = sent_before_a_greeting(stack, userid, after)
    assert len(replies) == 1 and "同意" in content_of(replies)
    assert user_turns(stack, userid).count(f"同意 {leave['number']} 情况属实") == 1
    status, detail = stack.api("t2302", "GET", f"/applications/{leave['id']}")
    approvals = [r for r in detail["records"] if r["action"] == "approve"]
    assert len(approvals) == 1 and approvals[0]["opinion"] == "情况属实", detail["records"]
    assert pending_task_ids(stack, "t2301").isdisjoint({task["id"]})


def test_a_busy_bot_never_makes_wecom_retry(wecom_stack):
    stack = wecom_stack
    users = ["jiangwenwen", "duwenhua", "renzhigang", "caimin", "yefeng", "yaoli"]
    marks = {u: last_id(stack, u) for u in users}
    actions = stack.pid("actions")
    os.kill(actions, signal.SIGSTOP)  # every turn that needs an action now hangs
    try:
        with ThreadPoolExecutor(len(users)) as pool:
            deliveries = list(pool.map(
                lambda u: stack.sim("POST", "say", {"userid": u, "text": "我有什么待办"})[1], users))
        assert [d["statuses"] for d in deliveries] == [[200]] * len(users), deliveries
    finally:
        os.kill(actions, signal.SIGCONT)
    for userid in users:  # once the bot catches up, each user gets one answer
        replies = wait_for_sends(stack, userid, marks[userid], seconds=120)
        assert len(replies) == 1 and "待办" in content_of(replies)


def test_sending_survives_revoked_tokens(wecom_stack):
    stack, userid = wecom_stack, "chenxiaoyu"
    assert "校务助手" in content_of(say(stack, userid, "你好"))
    issued = stack.sim("GET", "stats")[1]["tokens_issued"]
    status, revoked = stack.sim("POST", "expire_tokens")
    assert status == 200 and revoked["revoked"] >= 1
    assert "校务助手" in content_of(say(stack, userid, "你好"))
    assert stack.sim("GET", "stats")[1]["tokens_issued"] == issued + 1
