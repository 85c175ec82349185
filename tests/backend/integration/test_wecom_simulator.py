"""The WeCom simulator speaks WeCom's protocol: errcodes, token expiry, the per-member limit,
response codes, contacts, and callbacks that are really encrypted, signed and retried.

The callback side here is a tiny aiohttp server that decrypts with wechatpy and records
what it got: it stands in for our channel so the simulator itself is what is tested.
"""
from __future__ import annotations

import asyncio
import hashlib
import json
import os
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from typing import Any, Optional

import pytest
import xmltodict
import yaml
from aiohttp import web
from wechatpy.enterprise.crypto import WeChatCrypto
from wechatpy.enterprise.exceptions import InvalidCorpIdException
from wechatpy.exceptions import InvalidSignatureException

from devtools.wecom_simulator import SimulatorConfig, create_app
from devtools.wecom_simulator.__main__ import build_config, parse_args
from devtools.wecom_simulator.config import DEFAULT_ORG, ConfigError, dev_credentials
from devtools.wecom_simulator.contacts import Directory

pytestmark = pytest.mark.processes  # starts processes of ours: make test, not make test-fast

ORG = yaml.safe_load(DEFAULT_ORG.read_text(encoding="utf-8"))
WECOM_USERS = [u for u in ORG["users"] if u.get("wecom_userid")]
ALICE, BOB = WECOM_USERS[0]["wecom_userid"], WECOM_USERS[1]["wecom_userid"]
TIMEOUT = 0.4   # the tests shorten WeCom's 5 s per try


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Received:
    query: dict[str, str]
    body: str
    plaintext: Optional[str] = None
    error: Optional[str] = None


@dataclass
class CallbackStandIn:
    """Decrypts each POST like the app would; answers per ``plan`` ("ok", "slow", or a status)."""
    crypto: WeChatCrypto
    plan: list[Any] = field(default_factory=list)
    received: list[Received] = field(default_factory=list)

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.text()
        item = Received(dict(request.query), body)
        self.received.append(item)
        try:
            item.plaintext = self.crypto.decrypt_message(
                body, request.query["msg_signature"], request.query["timestamp"], request.query["nonce"])
        except Exception as error:  # recorded for the assertions
            item.error = type(error).__name__
        action = self.plan.pop(0) if self.plan else "ok"
        if action == "slow":
            await asyncio.sleep(TIMEOUT * 3)
        return web.Response(status=200 if action in ("ok", "slow") else action, text="")

    async def verify(self, request: web.Request) -> web.Response:
        q = request.query
        try:
            echo = self.crypto.check_signature(q["msg_signature"], q["timestamp"], q["nonce"], q["echostr"])
        except InvalidSignatureException:
            return web.Response(status=403)
        return web.Response(text=echo)


@pytest.fixture
def credentials() -> dict[str, str]:
    return dev_credentials()


@pytest.fixture
async def callback(aiohttp_server, credentials) -> tuple[CallbackStandIn, str]:
    stand_in = CallbackStandIn(WeChatCrypto(credentials["WECOM_TOKEN"], credentials["WECOM_AES_KEY"],
                                            credentials["WECOM_CORP_ID"]))
    app = web.Application()
    app.router.add_post("/webhooks/wecom/webhook", stand_in.handle)
    app.router.add_get("/webhooks/wecom/webhook", stand_in.verify)
    server = await aiohttp_server(app)
    return stand_in, str(server.make_url("/webhooks/wecom/webhook"))


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def sim(aiohttp_client, credentials, callback, clock):
    config = SimulatorConfig.from_env(credentials, callback_url=callback[1], token_ttl=600,
                                      callback_timeout=TIMEOUT)
    return await aiohttp_client(create_app(config, clock=clock))


async def get_token(sim, credentials) -> str:
    response = await sim.get("/cgi-bin/gettoken", params={"corpid": credentials["WECOM_CORP_ID"],
                                                         "corpsecret": credentials["WECOM_SECRET"]})
    assert response.status == 200
    body = await response.json()
    assert body["errcode"] == 0, body
    return body["access_token"]


async def api(sim, method: str, path: str, token: Optional[str], **kwargs: Any) -> dict[str, Any]:
    params = dict(kwargs.pop("params", {}))
    if token is not None:
        params["access_token"] = token
    response = await sim.request(method, f"/cgi-bin/{path}", params=params, **kwargs)
    assert response.status == 200   # WeCom answers errors as HTTP 200 + errcode
    return await response.json()


def text(touser: str, content: str, agentid: Any) -> dict[str, Any]:
    return {"touser": touser, "msgtype": "text", "agentid": agentid, "text": {"content": content}}


def card(touser: str, task_id: str, agentid: int, keys=("同意", "退回")) -> dict[str, Any]:
    return {"touser": touser, "msgtype": "template_card", "agentid": agentid, "template_card": {
        "card_type": "button_interaction", "main_title": {"title": "用章申请"}, "task_id": task_id,
        "button_list": [{"text": k, "style": 1, "key": f'/approve{{"task_id": "{k}"}}'} for k in keys]}}


async def sent_to(sim, userid: str) -> list[dict[str, Any]]:
    return (await (await sim.get("/_sim/messages", params={"touser": userid})).json())["messages"]


# ---------------------------------------------------------------- gettoken

async def test_gettoken_answers_like_wecom(sim, credentials):
    corp, secret = credentials["WECOM_CORP_ID"], credentials["WECOM_SECRET"]
    first = await api(sim, "GET", "gettoken", None, params={"corpid": corp, "corpsecret": secret})
    assert first["errcode"] == 0 and first["errmsg"] == "ok" and first["expires_in"] == 600
    again = await api(sim, "GET", "gettoken", None, params={"corpid": corp, "corpsecret": secret})
    assert again["access_token"] == first["access_token"]   # repeated while valid, as WeCom does
    cases = {(corp, "wrong"): 40001, ("wwother", secret): 40013, ("", secret): 41002, (corp, ""): 41004}
    for (corpid, corpsecret), errcode in cases.items():
        body = await api(sim, "GET", "gettoken", None, params={"corpid": corpid, "corpsecret": corpsecret})
        assert body["errcode"] == errcode and "access_token" not in body


async def test_token_expiry_revocation_and_unknown_tokens(sim, credentials, clock):
    token = await get_token(sim, credentials)
    assert (await api(sim, "GET", "user/get", token, params={"userid": ALICE}))["errcode"] == 0
    assert (await api(sim, "GET", "user/get", "not-a-token", params={"userid": ALICE}))["errcode"] == 40014
    assert (await api(sim, "GET", "user/get", None, params={"userid": ALICE}))["errcode"] == 41001

    clock.now += 601
    assert (await api(sim, "GET", "user/get", token, params={"userid": ALICE}))["errcode"] == 42001
    fresh = await get_token(sim, credentials)
    assert fresh != token
    assert (await api(sim, "GET", "user/get", fresh, params={"userid": ALICE}))["errcode"] == 0

    assert (await (await sim.post("/_sim/expire_tokens")).json())["revoked"] >= 1
    assert (await api(sim, "GET", "user/get", fresh, params={"userid": ALICE}))["errcode"] == 42001
    assert await get_token(sim, credentials) not in (token, fresh)
    assert (await (await sim.get("/_sim/stats")).json())["tokens_issued"] == 3


# ---------------------------------------------------------------- message/send

async def test_send_records_per_recipient_and_reports_invalid_users(sim, credentials):
    token, agent = await get_token(sim, credentials), int(credentials["WECOM_AGENT_ID"])
    body = await api(sim, "POST", "message/send", token, json=text(f"{ALICE}|{BOB}|ghost", "你好", agent))
    assert body["errcode"] == 0 and body["invaliduser"] == "ghost" and body["msgid"]
    assert "response_code" not in body
    for userid in (ALICE, BOB):
        [message] = await sent_to(sim, userid)
        assert message["msgtype"] == "text" and message["body"] == {"content": "你好"}
        assert message["msgid"] == body["msgid"] and message["dropped"] is False


@pytest.mark.parametrize("change, errcode", [
    ({"agentid": 99}, 40056),
    ({"agentid": None}, 41011),
    ({"msgtype": "telegram"}, 40008),
    ({"msgtype": "image", "image": {"media_id": "x"}}, 40008),
    ({"text": {"content": "  "}}, 44004),
    ({"text": {"content": "字" * 683}}, 45002),          # 2049 bytes in UTF-8
    ({"touser": "ghost|nobody"}, 81013),
    ({"touser": ""}, 81013),
    ({"msgtype": "markdown", "markdown": {}}, 44004),
    ({"msgtype": "textcard", "textcard": {"title": "t", "description": "d"}}, 40058),
])
async def test_send_validation_errcodes(sim, credentials, change, errcode):
    token, agent = await get_token(sim, credentials), int(credentials["WECOM_AGENT_ID"])
    payload = {**text(ALICE, "你好", agent), **change}
    body = await api(sim, "POST", "message/send", token, json=payload)
    assert body["errcode"] == errcode, body
    assert await sent_to(sim, ALICE) == []


@pytest.mark.parametrize("mutate", [
    lambda c: c.pop("task_id"),
    lambda c: c.update(task_id="有中文"),
    lambda c: c.update(button_list=[{"text": str(i), "key": str(i)} for i in range(7)]),
    lambda c: c.update(button_list=[{"text": "同意", "key": "k" * 1025}]),
    lambda c: c.update(button_list=[{"text": "同意"}]),
    lambda c: c.update(card_type="fancy"),
])
async def test_template_card_validation(sim, credentials, mutate):
    token, agent = await get_token(sim, credentials), int(credentials["WECOM_AGENT_ID"])
    payload = card(ALICE, "t1", agent)
    mutate(payload["template_card"])
    body = await api(sim, "POST", "message/send", token, json=payload)
    assert body["errcode"] == 40058, body


async def test_send_rejects_bad_json_and_duplicate_task_ids(sim, credentials):
    token, agent = await get_token(sim, credentials), int(credentials["WECOM_AGENT_ID"])
    assert (await api(sim, "POST", "message/send", token, data=b"{not json"))["errcode"] == 47001
    assert (await api(sim, "POST", "message/send", token, json=[1]))["errcode"] == 47001
    first = await api(sim, "POST", "message/send", token, json=card(ALICE, "task-1", agent))
    assert first["errcode"] == 0 and first["response_code"]
    assert (await api(sim, "POST", "message/send", token, json=card(BOB, "task-1", agent)))["errcode"] == 40058


async def test_per_member_limit_drops_silently(sim, credentials, clock):
    token, agent = await get_token(sim, credentials), int(credentials["WECOM_AGENT_ID"])
    for n in range(32):
        body = await api(sim, "POST", "message/send", token, json=text(ALICE, f"第{n}条", agent))
        assert body["errcode"] == 0   # the excess is not an error for the sender
    assert (await api(sim, "POST", "message/send", token, json=text(BOB, "别人不受影响", agent)))["errcode"] == 0
    messages = await sent_to(sim, ALICE)
    assert [m["dropped"] for m in messages] == [False] * 30 + [True] * 2
    assert [m["dropped"] for m in await sent_to(sim, BOB)] == [False]
    clock.now += 61
    await api(sim, "POST", "message/send", token, json=text(ALICE, "一分钟后", agent))
    assert (await sent_to(sim, ALICE))[-1]["dropped"] is False
    assert (await (await sim.get("/_sim/stats")).json())["dropped"] == 2


async def test_injected_faults_answer_then_clear(sim, credentials):
    token, agent = await get_token(sim, credentials), int(credentials["WECOM_AGENT_ID"])
    response = await sim.post("/_sim/faults", json={"errcode": 45009, "count": 2, "path": "message/send"})
    assert response.status == 200
    await sim.post("/_sim/faults", json={"errcode": -1, "count": 1, "path": "message/send"})
    codes = [(await api(sim, "POST", "message/send", token, json=text(ALICE, "重试", agent)))["errcode"]
             for _ in range(4)]
    assert codes == [45009, 45009, -1, 0]
    assert len(await sent_to(sim, ALICE)) == 1
    assert (await sim.post("/_sim/faults", json={"errcode": "x"})).status == 400
    assert (await sim.post("/_sim/faults", json={"count": 1})).status == 400
    assert (await sim.post("/_sim/faults", json={"http_status": 99})).status == 400


async def test_an_injected_http_error_answers_without_sending(sim, credentials):
    token, agent = await get_token(sim, credentials), int(credentials["WECOM_AGENT_ID"])
    await sim.post("/_sim/faults", json={"http_status": 502, "count": 1, "path": "message/send"})
    response = await sim.post(f"/cgi-bin/message/send?access_token={token}", json=text(ALICE, "网关故障", agent))
    assert response.status == 502
    assert await sent_to(sim, ALICE) == []
    assert (await api(sim, "POST", "message/send", token, json=text(ALICE, "再试", agent)))["errcode"] == 0
    assert len(await sent_to(sim, ALICE)) == 1


# ---------------------------------------------------------------- cards and response codes

async def test_click_and_update_template_card(sim, credentials, callback):
    stand_in, _ = callback
    token, agent = await get_token(sim, credentials), int(credentials["WECOM_AGENT_ID"])
    sent = await api(sim, "POST", "message/send", token, json=card(f"{ALICE}|{BOB}", "task-7", agent))
    key = '/approve{"task_id": "同意"}'

    clicked = await (await sim.post("/_sim/click", json={"userid": ALICE, "task_id": "task-7", "key": key})).json()
    assert clicked["statuses"] == [200]
    event = xmltodict.parse(stand_in.received[-1].plaintext)["xml"]
    assert (event["MsgType"], event["Event"], event["FromUserName"]) == ("event", "template_card_event", ALICE)
    assert (event["EventKey"], event["TaskId"], event["CardType"]) == (key, "task-7", "button_interaction")
    assert event["ResponseCode"] == clicked["response_code"] and event["AgentID"] == str(agent)

    update = {"agentid": agent, "response_code": clicked["response_code"], "button": {"replace_name": "已同意"}}
    malformed = {**update, "button": {}}
    assert (await api(sim, "POST", "message/update_template_card", token, json=malformed))["errcode"] == 40058
    done = await api(sim, "POST", "message/update_template_card", token, json=update)
    assert done == {"errcode": 0, "errmsg": "ok", "invaliduser": []}   # the malformed try did not use the code
    assert (await api(sim, "POST", "message/update_template_card", token, json=update))["errcode"] == 40058
    [alice_card], [bob_card] = await sent_to(sim, ALICE), await sent_to(sim, BOB)
    assert alice_card["card_update"]["button"] == {"replace_name": "已同意"}
    assert bob_card["card_update"] is None          # only the card the user clicked

    again = await sim.post("/_sim/click", json={"userid": ALICE, "task_id": "task-7", "key": key})
    assert again.status == 409
    # The code message/send returned updates every recipient's card, once.
    everyone = {**update, "response_code": sent["response_code"], "button": {"replace_name": "已处理"}}
    assert (await api(sim, "POST", "message/update_template_card", token, json=everyone))["errcode"] == 0
    assert (await sent_to(sim, BOB))[0]["card_update"]["button"]["replace_name"] == "已处理"


async def test_click_and_update_reject_what_does_not_exist(sim, credentials):
    token, agent = await get_token(sim, credentials), int(credentials["WECOM_AGENT_ID"])
    await api(sim, "POST", "message/send", token, json=card(ALICE, "task-8", agent))
    cases = [({"userid": BOB, "task_id": "task-8", "key": '/approve{"task_id": "同意"}'}, 404),
             ({"userid": ALICE, "task_id": "nope", "key": "x"}, 404),
             ({"userid": ALICE, "task_id": "task-8", "key": "not-a-button"}, 400),
             ({"userid": "ghost", "task_id": "task-8", "key": "x"}, 404)]
    for body, status in cases:
        assert (await sim.post("/_sim/click", json=body)).status == status
    update = {"agentid": agent, "response_code": "made-up", "button": {"replace_name": "已同意"}}
    assert (await api(sim, "POST", "message/update_template_card", token, json=update))["errcode"] == 40058
    assert (await api(sim, "POST", "message/update_template_card", token,
                      json={**update, "agentid": 1}))["errcode"] == 40056


# ---------------------------------------------------------------- contacts

async def test_contacts_come_from_the_org_chart(sim, credentials):
    token = await get_token(sim, credentials)
    departments = (await api(sim, "GET", "department/list", token))["department"]

    def count(items):
        return sum(1 + count(d.get("children") or []) for d in items)
    assert len(departments) == 1 + count(ORG["departments"])
    assert departments[0] == {**departments[0], "id": 1, "parentid": 0, "name": ORG["college"]}
    music = next(d for d in departments if d["name"] == "音乐系")
    subtree = (await api(sim, "GET", "department/list", token, params={"id": music["id"]}))["department"]
    assert [d["name"] for d in subtree] == ["音乐系", "声乐教研室", "器乐教研室"]

    everyone = (await api(sim, "GET", "user/list", token, params={"department_id": 1, "fetch_child": 1}))
    assert sorted(u["userid"] for u in everyone["userlist"]) == sorted(u["wecom_userid"] for u in WECOM_USERS)
    assert (await api(sim, "GET", "user/list", token, params={"department_id": 1}))["userlist"] == []
    alice = (await api(sim, "GET", "user/get", token, params={"userid": ALICE}))
    source = WECOM_USERS[0]
    assert (alice["name"], alice["mobile"], alice["status"]) == (source["name"], source["mobile"], 1)
    department = next(d for d in departments if d["id"] == alice["main_department"])
    assert department["name"] == next(d["name"] for d in ORG["departments"] if d["code"] == source["department"])

    assert (await api(sim, "GET", "user/get", token, params={"userid": "ghost"}))["errcode"] == 60111
    assert (await api(sim, "GET", "user/list", token, params={"department_id": 999}))["errcode"] == 60123
    assert (await api(sim, "GET", "department/list", token, params={"id": "x"}))["errcode"] == 60123


# ---------------------------------------------------------------- playing the WeCom server

def signature(token: str, timestamp: str, nonce: str, encrypt: str) -> str:
    return hashlib.sha1("".join(sorted([token, timestamp, nonce, encrypt])).encode()).hexdigest()


async def test_say_is_encrypted_and_signed_for_the_app(sim, credentials, callback):
    stand_in, _ = callback
    said = await (await sim.post("/_sim/say", json={"userid": ALICE, "text": "同意,情况属实 ]]> <b>"})).json()
    assert said["attempts"] == 1 and said["statuses"] == [200] and said["delivered"]
    [got] = stand_in.received
    assert got.error is None
    envelope = xmltodict.parse(got.body)["xml"]
    assert envelope["ToUserName"] == credentials["WECOM_CORP_ID"]
    assert envelope["AgentID"] == credentials["WECOM_AGENT_ID"]
    assert got.query["msg_signature"] == signature(credentials["WECOM_TOKEN"], got.query["timestamp"],
                                                   got.query["nonce"], envelope["Encrypt"])
    message = xmltodict.parse(got.plaintext)["xml"]
    assert message["MsgType"] == "text" and message["FromUserName"] == ALICE
    assert message["Content"] == "同意,情况属实 ]]> <b>"
    assert message["ToUserName"] == credentials["WECOM_CORP_ID"] and int(message["MsgId"]) == said["msgid"]

    second = await (await sim.post("/_sim/say", json={"userid": ALICE, "text": "再来"})).json()
    assert second["msgid"] != said["msgid"]
    assert (await sim.post("/_sim/say", json={"userid": "ghost", "text": "x"})).status == 404
    assert (await sim.post("/_sim/say", json={"userid": ALICE, "text": ""})).status == 400
    assert (await sim.post("/_sim/say", data=b"{oops")).status == 400


async def test_slow_callback_is_retried_like_wecom(sim, callback):
    stand_in, _ = callback
    stand_in.plan = ["slow", "slow", "ok"]
    said = await (await sim.post("/_sim/say", json={"userid": ALICE, "text": "慢"})).json()
    assert said["statuses"] == ["timeout", "timeout", 200] and said["attempts"] == 3 and said["delivered"]
    # Every try is the very same request: same MsgId, signature and nonce.
    assert len({(r.body, r.query["msg_signature"], r.query["nonce"]) for r in stand_in.received}) == 1
    assert len(stand_in.received) == 3


async def test_non_200_is_retried_three_tries_in_all(sim, callback):
    stand_in, _ = callback
    stand_in.plan = [500, 503, 403, "ok"]
    said = await (await sim.post("/_sim/say", json={"userid": ALICE, "text": "失败"})).json()
    assert said["statuses"] == [500, 503, 403] and not said["delivered"]
    assert len(stand_in.received) == 3
    stand_in.plan = [502]
    said = await (await sim.post("/_sim/say", json={"userid": ALICE, "text": "第二次"})).json()
    assert said["statuses"] == [502, 200]


async def test_unreachable_callback_counts_as_failed_tries(aiohttp_client, credentials, unused_tcp_port):
    config = SimulatorConfig.from_env(credentials, callback_url=f"http://127.0.0.1:{unused_tcp_port}/cb",
                                      callback_timeout=TIMEOUT)
    sim = await aiohttp_client(create_app(config))
    said = await (await sim.post("/_sim/say", json={"userid": ALICE, "text": "有人吗"})).json()
    assert said["attempts"] == 3 and not said["delivered"]
    assert all(str(s).startswith("connection error") for s in said["statuses"])


async def test_forged_and_foreign_deliveries(sim, callback):
    stand_in, _ = callback
    xml = f"<xml><FromUserName><![CDATA[{ALICE}]]></FromUserName><MsgType><![CDATA[text]]></MsgType></xml>"
    await sim.post("/_sim/deliver", json={"xml": xml, "signature_ok": False, "tries": 1})
    await sim.post("/_sim/deliver", json={"xml": xml, "corp_id": "wwsomeoneelse", "tries": 1})
    await sim.post("/_sim/deliver", json={"body": "<xml><Encrypt>garbage", "tries": 1})
    ok = await (await sim.post("/_sim/deliver", json={"xml": xml})).json()
    assert [r.error for r in stand_in.received[:2]] == [InvalidSignatureException.__name__,
                                                        InvalidCorpIdException.__name__]
    assert stand_in.received[2].body == "<xml><Encrypt>garbage" and stand_in.received[2].error
    assert stand_in.received[3].plaintext == xml and ok["statuses"] == [200]
    assert (await sim.post("/_sim/deliver", json={"xml": xml, "body": "x"})).status == 400


async def test_events_and_url_verification(sim, callback):
    stand_in, _ = callback
    entered = await (await sim.post("/_sim/event", json={"userid": BOB, "event": "enter_agent"})).json()
    assert entered["statuses"] == [200]
    event = xmltodict.parse(stand_in.received[-1].plaintext)["xml"]
    assert (event["Event"], event["FromUserName"], event["EventKey"]) == ("enter_agent", BOB, None)
    assert (await (await sim.post("/_sim/verify", json={})).json())["verified"] is True
    forged = await (await sim.post("/_sim/verify", json={"signature_ok": False})).json()
    assert forged["status"] == 403 and not forged["verified"]
    deliveries = (await (await sim.get("/_sim/deliveries", params={"userid": BOB})).json())["deliveries"]
    assert [d["kind"] for d in deliveries] == ["enter_agent"]


# ---------------------------------------------------------------- configuration and page

def test_config_from_env_and_cli(monkeypatch):
    creds = dev_credentials()
    for name in creds:
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(ConfigError, match="WECOM_CORP_ID"):
        SimulatorConfig.from_env({})
    with pytest.raises(ConfigError, match="43"):
        SimulatorConfig.from_env({**creds, "WECOM_AES_KEY": "short"})
    with pytest.raises(ConfigError, match="integer"):
        SimulatorConfig.from_env({**creds, "WECOM_AGENT_ID": "abc"})
    config = SimulatorConfig.from_env(creds)
    assert (config.token_ttl, config.callback_timeout, config.callback_tries) == (7200, 5.0, 3)

    for name, value in creds.items():
        monkeypatch.setenv(name, value)
    args = parse_args(["--port", "9", "--agent-id", "42", "--callback-url", "http://127.0.0.1:1/cb"])
    config = build_config(args)
    assert (config.corp_id, config.agent_id, config.callback_url) == (creds["WECOM_CORP_ID"], 42,
                                                                      "http://127.0.0.1:1/cb")


async def test_page_lists_members_escaped(aiohttp_client, credentials):
    org = {"college": "学院", "departments": [{"code": "d", "name": "<i>处</i>"}],
           "users": [{"username": "u", "name": "<script>alert(1)</script>", "department": "d",
                      "wecom_userid": "evil"}, {"username": "v", "name": "无企业微信", "department": "d"}]}
    config = SimulatorConfig.from_env(credentials)
    client = await aiohttp_client(create_app(config, Directory.from_org(org)))
    page = await (await client.get("/_sim/")).text()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>alert(1)" not in page
    assert "&lt;i&gt;处&lt;/i&gt;" in page and "无企业微信" not in page
    users = (await (await client.get("/_sim/users")).json())["users"]
    assert users == [{"userid": "evil", "name": "<script>alert(1)</script>", "department": "<i>处</i>"}]


def test_make_run_path_dev_env_file_and_cli(tmp_path, unused_tcp_port):
    """What `make run` does without real credentials: write a dev corp once, start with it."""
    root = DEFAULT_ORG.parents[2]
    env_file = tmp_path / "var" / "wecom-simulator.env"
    base_env = {k: v for k, v in os.environ.items() if not k.startswith("WECOM_")}
    run = [sys.executable, "-m", "devtools.wecom_simulator", "--port", str(unused_tcp_port)]
    first = subprocess.run([*run, "--write-dev-env", str(env_file)], cwd=root, env=base_env,
                           capture_output=True, text=True, timeout=60)
    assert first.returncode == 0 and "wrote" in first.stdout, first.stderr
    written = env_file.read_text()
    again = subprocess.run([*run, "--write-dev-env", str(env_file)], cwd=root, env=base_env,
                           capture_output=True, text=True, timeout=60)
    assert again.returncode == 0 and env_file.read_text() == written   # generated once, then kept
    settings = dict(line.split("=", 1) for line in written.splitlines() if line and not line.startswith("#"))
    assert settings["WECOM_API_BASE"] == f"http://127.0.0.1:{unused_tcp_port}/cgi-bin/"
    SimulatorConfig.from_env(settings)   # a complete, valid corp

    process = subprocess.Popen([*run, "--callback-url", "http://127.0.0.1:9/cb"], cwd=root,
                               env={**base_env, **settings}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True)
    try:
        line = process.stdout.readline()
        assert f"http://127.0.0.1:{unused_tcp_port}/_sim/" in line and settings["WECOM_CORP_ID"] in line
        query = urllib.parse.urlencode({"corpid": settings["WECOM_CORP_ID"], "corpsecret": settings["WECOM_SECRET"]})
        for _ in range(50):
            try:
                with urllib.request.urlopen(f"{settings['WECOM_API_BASE']}gettoken?{query}", timeout=2) as response:
                    body = json.loads(response.read())
                break
            except OSError:
                time.sleep(0.1)
        assert body["errcode"] == 0 and body["expires_in"] == 7200
    finally:
        process.terminate()
        process.wait(timeout=10)
        process.stdout.close()


async def test_the_duplicate_check_accepts_a_repeat_within_the_interval_without_delivering_it(sim, credentials, clock):
    token, agent = await get_token(sim, credentials), int(credentials["WECOM_AGENT_ID"])
    checked = {**text(ALICE, "同一条通知", agent), "enable_duplicate_check": 1, "duplicate_check_interval": 600}
    first = await api(sim, "POST", "message/send", token, json=checked)
    again = await api(sim, "POST", "message/send", token, json=checked)
    assert first["errcode"] == again["errcode"] == 0 and again["msgid"] == first["msgid"]
    assert len(await sent_to(sim, ALICE)) == 1
    unchecked = await api(sim, "POST", "message/send", token, json=text(ALICE, "同一条通知", agent))
    assert unchecked["msgid"] != first["msgid"] and len(await sent_to(sim, ALICE)) == 2  # off: delivered
    clock.now += 601
    token = await get_token(sim, credentials)  # this fixture's tokens live 600 s
    later = await api(sim, "POST", "message/send", token, json=checked)  # the interval is over
    assert later["errcode"] == 0 and later["msgid"] != first["msgid"], later
    assert len(await sent_to(sim, ALICE)) == 3
    bad = await api(sim, "POST", "message/send", token, json={**checked, "duplicate_check_interval": 14401})
    assert bad["errcode"] == 40058 and len(await sent_to(sim, ALICE)) == 3


async def test_a_late_answer_fault_delivers_and_answers_after_the_delay(sim, credentials):
    import time as clock_time

    token, agent = await get_token(sim, credentials), int(credentials["WECOM_AGENT_ID"])
    response = await sim.post("/_sim/faults", json={"delay": 0.3, "count": 1, "path": "message/send"})
    assert response.status == 200
    started = clock_time.monotonic()
    answer = await api(sim, "POST", "message/send", token, json=text(ALICE, "迟到的回答", agent))
    assert answer["errcode"] == 0 and clock_time.monotonic() - started >= 0.3
    assert len(await sent_to(sim, ALICE)) == 1
    assert (await sim.post("/_sim/faults", json={"delay": 121})).status == 400


# ---------------------------------------------------------------- media (pictures and files members send)


async def test_a_sent_picture_is_announced_with_its_media_id_and_served_by_media_get(sim, credentials, callback, clock):
    import base64
    stand_in, _ = callback
    picture = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
    sent = await (await sim.post("/_sim/media", json={
        "userid": ALICE, "kind": "image", "filename": "IMG_0001.png", "content_type": "image/png",
        "content_base64": base64.b64encode(picture).decode()})).json()
    assert sent["delivered"]
    message = xmltodict.parse(stand_in.received[-1].plaintext)["xml"]
    assert message["MsgType"] == "image" and message["MediaId"] == sent["media_id"] and message["PicUrl"]
    assert int(message["MsgId"]) == sent["msgid"]
    token = await get_token(sim, credentials)
    response = await sim.get("/cgi-bin/media/get", params={"access_token": token, "media_id": sent["media_id"]})
    assert response.status == 200 and await response.read() == picture
    assert response.content_type == "image/png" and "IMG_0001.png" in response.headers["Content-Disposition"]

    file_sent = await (await sim.post("/_sim/media", json={
        "userid": ALICE, "kind": "file", "filename": "证明.pdf", "content_base64": base64.b64encode(b"%PDF-1.4").decode()})).json()
    message = xmltodict.parse(stand_in.received[-1].plaintext)["xml"]
    assert message["MsgType"] == "file" and message["FileName"] == "证明.pdf" and message["MediaId"] == file_sent["media_id"]

    assert (await api(sim, "GET", "media/get", token, params={"media_id": "nope"}))["errcode"] == 40007
    assert (await api(sim, "GET", "media/get", token))["errcode"] == 41006
    assert (await api(sim, "GET", "media/get", "bad-token", params={"media_id": sent["media_id"]}))["errcode"] == 40014
    clock.now += 3 * 24 * 3600 + 1  # WeCom keeps temporary media 3 days
    token = await get_token(sim, credentials)
    assert (await api(sim, "GET", "media/get", token, params={"media_id": sent["media_id"]}))["errcode"] == 40007
    assert (await sim.post("/_sim/media", json={"userid": ALICE, "kind": "voice", "filename": "a",
                                                "content_base64": "AAAA"})).status == 400
    assert (await sim.post("/_sim/media", json={"userid": ALICE, "kind": "image", "filename": "a.png",
                                                "content_base64": "%%%"})).status == 400
