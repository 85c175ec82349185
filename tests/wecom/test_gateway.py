"""The WeCom callback gateway (bot/channels/wecom/gateway.py) between the simulator and Rasa:
real processes, real WeCom crypto; what it forwarded is read from its /health counters and
from what Rasa and the simulator saw."""
from __future__ import annotations

import os
import signal
import subprocess
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from bot.channels.wecom.gateway import FORWARDS_IN_FLIGHT
from devtools.stack import RASA_BIN, ROOT, Stack, free_port, http

from tests.support.wecom import content_of, deliver, last_id, sent_before_a_greeting, text_message, user_turns, wait_for_sends


def gateway_counts(stack: Stack) -> dict[str, Any]:
    status, counts = http("GET", f"http://127.0.0.1:{stack.ports['gateway']}/health")
    assert status == 200 and counts["status"] == "ok", counts
    return counts


def wait_until_forwarded(stack: Stack, count: int, seconds: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        counts = gateway_counts(stack)
        if counts["forwarded"] >= count and counts["pending"] == 0:
            return counts
        time.sleep(0.2)
    raise AssertionError(f"expected {count} forwards, gateway says {gateway_counts(stack)}")


def test_without_wecom_settings_the_gateway_says_so_and_exits_non_zero():
    env = {k: v for k, v in os.environ.items() if not k.startswith("WECOM_")}
    done = subprocess.run([str(RASA_BIN / "python"), "-m", "bot.channels.wecom.gateway", "--port", str(free_port()),
                           "--forward-url", "http://127.0.0.1:9/webhooks/wecom/webhook"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    assert done.stderr.strip().count("\n") == 0 and "WECOM_CORP_ID" in done.stderr


def test_url_verification_is_answered_by_the_gateway(wecom_stack):
    assert wecom_stack.sim("POST", "verify", {"signature_ok": True})[1]["verified"] is True
    answer = wecom_stack.sim("POST", "verify", {"signature_ok": False})[1]
    assert answer["status"] == 403 and answer["verified"] is False


def test_bad_callbacks_get_their_status_and_nothing_is_forwarded(wecom_stack):
    stack, userid = wecom_stack, "fengyaqin"
    before_counts, before_sent = wait_until_forwarded(stack, 0), last_id(stack, userid)
    xml = text_message(stack, userid, "我的申请", uuid.uuid4().int % 10**18)
    assert deliver(stack, xml=xml, signature_ok=False)["statuses"] == [403]
    assert deliver(stack, xml=xml, corp_id="wwanothercorp0001")["statuses"] == [403]
    assert deliver(stack, xml="<xml><FromUserName>fengyaqin</From")["statuses"] == [400]
    assert deliver(stack, body="<xml><Encrypt>unterminated")["statuses"] == [400]
    assert deliver(stack, body="<xml>" + "x" * (70 * 1024) + "</xml>")["statuses"] == [413]
    assert sent_before_a_greeting(stack, userid, before_sent) == [] and "我的申请" not in user_turns(stack, userid)
    counts = wait_until_forwarded(stack, before_counts["forwarded"] + 1)
    assert counts["rejected"] - before_counts["rejected"] >= 4  # the 413 is refused before it is read
    accepted, forwarded = (counts[n] - before_counts[n] for n in ("accepted", "forwarded"))
    assert (accepted, forwarded) == (1, 1)  # the greeting alone


def test_a_delivery_repeated_three_times_is_forwarded_once(wecom_stack):
    stack, userid = wecom_stack, "zengzhiyuan"
    before, after = wait_until_forwarded(stack, 0), last_id(stack, userid)
    xml = text_message(stack, userid, "我的待办", uuid.uuid4().int % 10**18)
    with ThreadPoolExecutor(3) as pool:  # WeCom's retries may overlap the first try
        results = list(pool.map(lambda _: deliver(stack, xml=xml), range(3)))
    assert [r["statuses"] for r in results] == [[200]] * 3
    replies = sent_before_a_greeting(stack, userid, after)
    assert len(replies) == 1 and "待办" in content_of(replies), replies
    counts = wait_until_forwarded(stack, before["forwarded"] + 2)  # …and the greeting
    assert counts["forwarded"] - before["forwarded"] == 2 and counts["duplicates"] - before["duplicates"] == 2


def wait_until_in_flight(stack: Stack, count: int, seconds: float = 10) -> dict[str, Any]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        counts = gateway_counts(stack)
        if counts["in_flight"] >= count:
            return counts
        time.sleep(0.1)
    return gateway_counts(stack)


def test_callbacks_are_acknowledged_while_rasa_is_stopped_and_processed_once_it_resumes(wecom_stack):
    stack = wecom_stack
    users = ["jiangwenwen", "duwenhua", "renzhigang", "liujing", "chenzhiqiang", "sunlijuan", "hejianping", "xuhaitao"]
    assert len(users) > FORWARDS_IN_FLIGHT
    marks, before = {u: last_id(stack, u) for u in users}, wait_until_forwarded(stack, 0)
    rasa = stack.pid("rasa")
    os.kill(rasa, signal.SIGSTOP)  # Rasa answers nothing at all now
    try:
        with ThreadPoolExecutor(len(users)) as pool:
            deliveries = list(pool.map(lambda u: stack.sim("POST", "say", {"userid": u, "text": "你好"})[1], users))
        assert [d["statuses"] for d in deliveries] == [[200]] * len(users), deliveries  # no WeCom retry
        counts = wait_until_in_flight(stack, FORWARDS_IN_FLIGHT)
        # All held by the gateway (each forward is set off before its 200), not lost; the others queue
        # behind the bound.
        assert counts["pending"] == len(users) and counts["in_flight"] == FORWARDS_IN_FLIGHT, counts
    finally:
        os.kill(rasa, signal.SIGCONT)
    counts = wait_until_forwarded(stack, before["forwarded"] + len(users), seconds=120)
    assert counts["forwarded"] - before["forwarded"] == len(users)  # and nothing more is pending
    for userid in users:
        replies = wait_for_sends(stack, userid, marks[userid], seconds=120)
        assert len(replies) == 1 and "校务助手" in content_of(replies)
        assert user_turns(stack, userid).count("你好") == 1  # one turn each: each forwarded once
