"""Signing in to the hall from inside WeChat Work (OAuth2 网页授权) with the WeCom simulator as
WeCom: the hall page → WeCom's authorize → our callback → getuserinfo → a session, no password."""
from __future__ import annotations

import dataclasses
from typing import AsyncIterator, Callable, Optional
from urllib.parse import parse_qs, urlencode, urlsplit

import aiohttp
import pytest
from sqlalchemy import select, update

from backend.config import Settings
from backend.db.database import Database
from backend.db.models import AuditEvent, User, WebSession
from backend.web.app import create_app
from backend.workflow.engine import Workflow
from wecom_api import WeComConfig

from devtools.stack import free_port
from tests.support.clock import Clock
from tests.support.wecom import Simulator, signed_in_by_wecom

IN_WECOM = {"User-Agent": "Mozilla/5.0 (iPhone) AppleWebKit/605.1.15 Mobile/15E148 wxwork/4.1.30 MicroMessenger/7.0.1"}
SESSION_COOKIE, STATE_COOKIE = "campus_session", "campus_wecom_state"


@pytest.fixture(scope="module")
def simulator(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Simulator]:
    running = Simulator(tmp_path_factory.mktemp("oauth-sim"))
    yield running
    running.stop()


class Phone:
    """WeCom's in-app browser: its own cookies, redirects followed by hand."""

    def __init__(self, base_url: str):
        self.base_url = base_url
        self.session = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True), headers=IN_WECOM)

    async def get(self, url: str) -> tuple[int, str, str]:
        """(status, Location, body) of one hop; a path is on the hall."""
        async with self.session.get(url if "://" in url else self.base_url + url, allow_redirects=False) as answer:
            return answer.status, answer.headers.get("Location", ""), await answer.text()

    def cookie(self, name: str) -> Optional[str]:
        found = [c.value for c in self.session.cookie_jar if c.key == name]
        return found[0] if found else None

    async def to_wecom(self, path: str) -> str:
        """Open a hall page without a session: it goes to WeCom's authorize; that URL."""
        status, location, _ = await self.get(path)
        assert status == 303 and location.startswith("/wecom/enter?next="), (status, location)
        status, authorize, _ = await self.get(location)
        assert status == 302, (status, authorize)
        return authorize


@pytest.fixture
async def hall(aiohttp_client: Callable, settings: Settings, database: Database, clock: Clock,
               simulator: Simulator) -> AsyncIterator[Callable[[], Phone]]:
    port = free_port()
    public = f"http://127.0.0.1:{port}"
    c = simulator.credentials
    wecom = WeComConfig(corp_id=c["WECOM_CORP_ID"], agent_id=int(c["WECOM_AGENT_ID"]), secret=c["WECOM_SECRET"],
                        api_base=simulator.api_base)
    configured = dataclasses.replace(
        settings, public_url=public, wecom=wecom,
        wecom_authorize_url=f"http://127.0.0.1:{simulator.port}/connect/oauth2/authorize")
    await aiohttp_client(create_app(configured, Workflow(configured.timezone, now=clock)),
                         server_kwargs={"port": port})
    phones: list[Phone] = []

    def phone() -> Phone:
        phones.append(Phone(public))
        return phones[-1]

    yield phone
    for made in phones:
        await made.session.close()


async def audit_rows(database: Database) -> list[tuple[str, str, Optional[str], Optional[str]]]:
    async with database.read() as session:
        rows = await session.execute(select(AuditEvent.event, AuditEvent.channel, AuditEvent.username,
                                            AuditEvent.target).where(AuditEvent.channel == "wecom")
                                     .order_by(AuditEvent.id))
        return [tuple(row) for row in rows]


async def session_count(database: Database) -> int:
    async with database.read() as session:
        return len((await session.scalars(select(WebSession.id_hash))).all())


async def test_a_hall_page_opened_in_wecom_signs_the_member_in_without_a_password(hall, simulator, database):
    phone = hall()
    authorize = await phone.to_wecom("/applications?page=1")
    sent = urlsplit(authorize)
    query = {k: v[0] for k, v in parse_qs(sent.query).items()}
    assert authorize.startswith(f"http://127.0.0.1:{simulator.port}/connect/oauth2/authorize?")
    assert sent.fragment == "wechat_redirect"
    assert query["appid"] == simulator.credentials["WECOM_CORP_ID"]
    assert query["agentid"] == simulator.credentials["WECOM_AGENT_ID"]
    assert query["response_type"] == "code" and query["scope"] == "snsapi_base"
    assert query["redirect_uri"] == f"{phone.base_url}/wecom/callback?next=%2Fapplications%3Fpage%3D1"
    assert query["state"] == phone.cookie(STATE_COOKIE)

    status, location, _ = await callback_with(phone, authorize, "zhangwei")
    assert (status, location) == (303, "/applications?page=1")
    assert phone.cookie(SESSION_COOKIE) and not phone.cookie(STATE_COOKIE)
    status, _, page = await phone.get("/applications?page=1")
    assert status == 200 and "张伟" in page
    assert await audit_rows(database) == [("login_succeeded", "wecom", "t2001", "wecom:zhangwei")]


async def callback_with(phone: Phone, authorize: str, userid: str, **change: str) -> tuple[int, str, str]:
    back = {**signed_in_by_wecom(authorize, userid), **change}
    return await phone.get("/wecom/callback?" + urlencode(back))


async def test_a_reused_or_made_up_code_signs_nobody_in(hall, database):
    phone = hall()
    authorize = await phone.to_wecom("/tasks")
    back = signed_in_by_wecom(authorize, "zhangwei")
    callback = f"/wecom/callback?next=%2Ftasks&code={back['code']}&state={back['state']}"
    assert (await phone.get(callback))[0] == 303
    other = hall()
    await other.to_wecom("/tasks")
    for code in (back["code"], "made-up"):  # the first phone's code again, then none WeCom issued
        status, _, page = await other.get(f"/wecom/callback?next=%2Ftasks&code={code}"
                                          f"&state={other.cookie(STATE_COOKIE)}")
        assert status == 403 and "企业微信登录凭证无效或已使用" in page
    assert other.cookie(SESSION_COOKIE) is None
    assert [row[3] for row in await audit_rows(database)][1:] == ["wecom:errcode:40029"] * 2


async def test_a_forged_or_missing_state_is_refused_before_wecom_is_asked(hall, database):
    phone = hall()
    authorize = await phone.to_wecom("/")
    status, _, page = await callback_with(phone, authorize, "zhangwei", state="forged")
    assert status == 403 and "企业微信登录请求无效或已过期" in page
    stranger = hall()  # a browser that never started a sign-in: an attacker's link, say
    status, _, _ = await callback_with(stranger, authorize, "zhangwei")
    assert status == 403
    assert phone.cookie(SESSION_COOKIE) is None and stranger.cookie(SESSION_COOKIE) is None
    assert await session_count(database) == 0
    assert [row[3] for row in await audit_rows(database)] == ["wecom:bad_state"] * 2


async def test_someone_outside_the_corp_or_bound_to_nobody_is_refused(hall, database):
    phone = hall()
    status, _, page = await callback_with(phone, await phone.to_wecom("/"), "!openid")
    assert status == 403 and "不是本校企业微信的成员" in page
    async with database.write() as session:
        await session.execute(update(User).where(User.username == "t2102").values(wecom_userid=None))
    try:
        status, _, page = await callback_with(phone, await phone.to_wecom("/"), "tangting")
    finally:
        async with database.write() as session:
            await session.execute(update(User).where(User.username == "t2102").values(wecom_userid="tangting"))
    assert status == 403 and "尚未绑定" in page
    assert phone.cookie(SESSION_COOKIE) is None and await session_count(database) == 0
    assert [row[3] for row in await audit_rows(database)] == ["wecom:not_member", "wecom:unbound:tangting"]


async def test_a_forced_password_change_does_not_stop_a_wecom_sign_in(hall, database):
    async with database.write() as session:
        await session.execute(update(User).where(User.username == "t2103").values(must_change_password=True))
    try:
        phone = hall()
        status, location, _ = await callback_with(phone, await phone.to_wecom("/tasks"), "fengyaqin")
        assert (status, location) == (303, "/tasks")
        status, _, page = await phone.get("/tasks")
        assert status == 200 and "冯雅琴" in page
    finally:
        async with database.write() as session:
            await session.execute(update(User).where(User.username == "t2103").values(must_change_password=False))


async def test_a_browser_outside_wecom_still_goes_to_the_login_page(hall):
    phone = hall()
    async with phone.session.get(phone.base_url + "/tasks", allow_redirects=False,
                                 headers={"User-Agent": "Mozilla/5.0 Firefox/140.0"}) as answer:
        assert answer.status == 303 and answer.headers["Location"].startswith("/login?next=")


async def test_the_entry_url_is_safe_for_any_next_and_skips_wecom_when_signed_in(hall):
    phone = hall()
    status, authorize, _ = await phone.get("/wecom/enter?next=//evil.example/x")
    assert status == 302
    redirect_uri = parse_qs(urlsplit(authorize).query)["redirect_uri"][0]
    assert redirect_uri == f"{phone.base_url}/wecom/callback?next=%2F"
    status, location, _ = await callback_with(phone, authorize, "zhangwei")
    assert (status, location) == (303, "/")
    assert (await phone.get("/wecom/enter?next=%2Ftasks"))[:2] == (303, "/tasks")
