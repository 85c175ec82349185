"""wecom_api/client.py against the simulator: token cache, single-flight refresh, errcodes, contacts,
the OAuth2 sign-in (authorize → code → auth/getuserinfo)."""
from __future__ import annotations

import asyncio
import logging
import time

import aiohttp
import pytest

from wecom_api import WeComClient, WeComError
from wecom_api.client import logger as client_logger

from tests.support.wecom import Simulator, authorize_url, open_without_redirect, signed_in_by_wecom


def client_for(simulator: Simulator, session: aiohttp.ClientSession, **options) -> WeComClient:
    c = simulator.credentials
    return WeComClient(simulator.api_base, c["WECOM_CORP_ID"], c["WECOM_SECRET"], session,
                       agent_id=int(c["WECOM_AGENT_ID"]), backoff_seconds=0.05, **options)


def text(content: str) -> dict:
    return {"msgtype": "text", "text": {"content": content}}


@pytest.fixture
async def session():
    async with aiohttp.ClientSession() as s:
        yield s


async def test_many_concurrent_calls_fetch_the_token_once(simulator, session):
    before = simulator.control("GET", "stats")["gettoken_calls"]
    client = client_for(simulator, session)
    await asyncio.gather(*[client.send_message("zhangwei", text(f"并发{i}")) for i in range(20)])
    assert client.token_fetches == 1
    assert simulator.control("GET", "stats")["gettoken_calls"] - before == 1
    contents = [m["body"]["content"] for m in simulator.control("GET", "messages?touser=zhangwei")["messages"]]
    assert sorted(c for c in contents if c.startswith("并发")) == sorted(f"并发{i}" for i in range(20))


async def test_a_revoked_token_is_fetched_again_once_and_the_calls_succeed(simulator, session):
    client = client_for(simulator, session)
    await client.send_message("tangting", text("撤销前"))
    simulator.control("POST", "expire_tokens")
    await asyncio.gather(*[client.send_message("tangting", text(f"撤销后{i}")) for i in range(5)])
    assert client.token_fetches == 2
    contents = [m["body"]["content"] for m in simulator.control("GET", "messages?touser=tangting")["messages"]]
    assert {f"撤销后{i}" for i in range(5)} <= set(contents)


async def wecom_token(simulator: Simulator, session: aiohttp.ClientSession) -> str:
    """The app's token as WeCom hands it out now: the same one until it expires."""
    c = simulator.credentials
    async with session.get(f"{simulator.api_base}gettoken",
                           params={"corpid": c["WECOM_CORP_ID"], "corpsecret": c["WECOM_SECRET"]}) as answer:
        return (await answer.json())["access_token"]


async def test_an_expired_token_is_renewed_before_use(tmp_path, session, caplog):
    caplog.set_level(logging.INFO, logger=client_logger.name)
    short = Simulator(tmp_path, token_ttl=1)
    try:
        client = client_for(short, session)
        await client.send_message("zhangwei", text("一"))
        held = await wecom_token(short, session)  # the client's
        deadline = time.monotonic() + 5
        while await wecom_token(short, session) == held:  # until WeCom let it expire
            assert time.monotonic() < deadline, "WeCom's token of 1 s never expired"
            await asyncio.sleep(0.05)
        # The client learnt of the token a moment after WeCom issued it: it may hold on that moment longer.
        deadline = time.monotonic() + 0.5
        while client._token_is_fresh():
            assert time.monotonic() < deadline, "the client still counts a token WeCom let expire as valid"
            await asyncio.sleep(0.01)
        await client.send_message("zhangwei", text("二"))
        assert client.token_fetches == 2
        assert "access_token rejected" not in caplog.text  # renewed before use, not after WeCom said 42001
        assert len(short.control("GET", "messages?touser=zhangwei")["messages"]) == 2
    finally:
        short.stop()


@pytest.mark.parametrize("errcode", [45009, 45033, -1])
async def test_busy_errcodes_are_retried_with_backoff(simulator, session, errcode):
    simulator.control("POST", "faults", {"errcode": errcode, "count": 2, "path": "message/send"})
    client = client_for(simulator, session)
    await client.send_message("hansongtao", text(f"忙{errcode}"))
    contents = [m["body"]["content"] for m in simulator.control("GET", "messages?touser=hansongtao")["messages"]]
    assert contents.count(f"忙{errcode}") == 1


async def test_busy_for_too_long_gives_up_with_the_errcode(simulator, session):
    simulator.control("POST", "faults", {"errcode": 45009, "count": 10, "path": "message/send"})
    try:
        with pytest.raises(WeComError) as caught:
            await client_for(simulator, session, attempts=3).send_message("hansongtao", text("放弃"))
        assert caught.value.errcode == 45009
    finally:
        simulator.control("DELETE", "faults")


async def test_other_errcodes_are_final(simulator, session):
    with pytest.raises(WeComError) as caught:
        await client_for(simulator, session).send_message("nobody-here", text("你好"))
    assert caught.value.errcode == 81013
    c = simulator.credentials
    wrong = WeComClient(simulator.api_base, c["WECOM_CORP_ID"], "wrong-secret", session, agent_id=1)
    with pytest.raises(WeComError) as caught:
        await wrong.send_message("zhangwei", text("你好"))
    assert caught.value.errcode == 40001


async def test_contacts_are_read_from_the_address_book(simulator, session):
    client = client_for(simulator, session)
    departments = await client.department_list()
    assert departments and all({"id", "name"} <= set(d) for d in departments)
    members = {u["userid"] for d in departments for u in await client.user_list(d["id"])}
    assert {"zhangwei", "hansongtao"} <= members
    assert (await client.user_get("zhangwei"))["name"] == "张伟"


CALLBACK = "https://hall.example.edu.cn/wecom/callback?next=%2Ftasks"


async def test_authorize_redirects_with_a_code_that_getuserinfo_turns_into_the_members_userid(simulator, session):
    back = signed_in_by_wecom(authorize_url(simulator, CALLBACK, state="st-1"), "zhangwei")
    assert back["state"] == "st-1" and back["next"] == "/tasks"  # redirect_uri's own query is kept
    client = client_for(simulator, session)
    answer = await client.getuserinfo(back["code"])
    assert answer["userid"] == "zhangwei" and "openid" not in answer


async def test_a_code_works_once(simulator, session):
    code = signed_in_by_wecom(authorize_url(simulator, CALLBACK), "hansongtao")["code"]
    client = client_for(simulator, session)
    assert (await client.getuserinfo(code))["userid"] == "hansongtao"
    for used_or_made_up in (code, "not-a-code"):
        with pytest.raises(WeComError) as caught:
            await client.getuserinfo(used_or_made_up)
        assert caught.value.errcode == 40029


async def test_someone_outside_the_corp_gets_an_openid_and_no_userid(simulator, session):
    code = signed_in_by_wecom(authorize_url(simulator, CALLBACK), "!openid")["code"]
    answer = await client_for(simulator, session).getuserinfo(code)
    assert answer["openid"] and "userid" not in answer


async def test_getuserinfo_renews_a_revoked_token_like_any_call(simulator, session):
    client = client_for(simulator, session)
    await client.access_token()
    simulator.control("POST", "expire_tokens")
    code = signed_in_by_wecom(authorize_url(simulator, CALLBACK), "tangting")["code"]
    assert (await client.getuserinfo(code))["userid"] == "tangting"
    assert client.token_fetches == 2


@pytest.mark.parametrize("change, errcode", [
    ({"appid": "wwsomeoneelse"}, 40013),
    ({"agentid": "999"}, 40056),
    ({"scope": "snsapi_userinfo"}, 40058),
    ({"redirect_uri": "javascript:alert(1)"}, 50001),
])
def test_authorize_refuses_what_wecom_refuses(simulator, change, errcode):
    url = authorize_url(simulator, change.pop("redirect_uri", CALLBACK), **change) + "&_sim_userid=zhangwei"
    status, _, body = open_without_redirect(url)
    assert status == 400 and f"errcode {errcode}" in body


def test_without_a_chosen_member_the_authorize_page_asks_who(simulator):
    simulator.control("POST", "oauth_user", {"userid": None})
    status, _, body = open_without_redirect(authorize_url(simulator, CALLBACK))
    assert status == 200 and "张伟(zhangwei)" in body and "_sim_userid=zhangwei" in body
    simulator.control("POST", "oauth_user", {"userid": "zhangwei"})
    try:
        status, headers, _ = open_without_redirect(authorize_url(simulator, CALLBACK))
        assert status == 302 and headers["Location"].startswith("https://hall.example.edu.cn/wecom/callback?")
    finally:
        simulator.control("POST", "oauth_user", {"userid": None})


async def test_media_get_returns_the_file_a_member_sent_and_40007_once_it_is_unknown(simulator, session):
    import base64
    picture = b"\xff\xd8\xff\xe0" + b"\x00" * 64
    sent = simulator.control("POST", "media", {"userid": "zhangwei", "kind": "image", "filename": "IMG_0002.jpg",
                                               "content_type": "image/jpeg",
                                               "content_base64": base64.b64encode(picture).decode()})
    client = client_for(simulator, session)
    media = await client.get_media(sent["media_id"])
    assert (media.data, media.content_type, media.filename) == (picture, "image/jpeg", "IMG_0002.jpg")
    simulator.control("POST", "expire_tokens")  # a revoked token: fetched again, the file still comes
    assert (await client.get_media(sent["media_id"])).data == picture and client.token_fetches == 2
    with pytest.raises(WeComError) as unknown:
        await client.get_media("no-such-media")
    assert unknown.value.errcode == 40007
