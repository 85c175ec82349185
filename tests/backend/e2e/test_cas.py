"""CAS single sign-on (统一身份认证) against a real CAS server (django-mama-cas, started by the
tests): the redirect, the CAS login form, the ticket validated by our callback, single logout."""
from __future__ import annotations

import dataclasses
from typing import Callable
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import func, select, update

from backend.config import Settings
from backend.db.audit import entries
from backend.db.models import User, WebSession
from backend.web import cas
from backend.web.app import create_app
from backend.workflow.engine import Workflow
from devtools.stack import free_port

from tests.support.cas_server import CasServer, submit_cas_login
from tests.support.pages import Browser, by_testid, text_of

CAS_PASSWORD = "Cas-Secret-2026"


@pytest.fixture(scope="module")
def cas_server(tmp_path_factory: pytest.TempPathFactory):
    # t2001 is in the demo college; ghost is known to CAS only.
    server = CasServer(tmp_path_factory.mktemp("cas"), {"t2001": CAS_PASSWORD, "ghost": CAS_PASSWORD})
    yield server
    server.stop()


@pytest.fixture
def cas_settings(settings: Settings, cas_server: CasServer) -> Settings:
    port = free_port()
    return dataclasses.replace(settings, port=port, cas_server_url=cas_server.url,
                               public_url=f"http://127.0.0.1:{port}")


@pytest.fixture
async def cas_hall(aiohttp_client: Callable, cas_settings: Settings, database, clock):
    """The real app on the port its BACKEND_PUBLIC_URL names; ``browser()`` opens browsers."""
    app = create_app(cas_settings, Workflow(cas_settings.timezone, now=clock))
    client = await aiohttp_client(app, server_kwargs={"host": "127.0.0.1", "port": cas_settings.port})
    browsers: list[Browser] = []

    def browser() -> Browser:
        browsers.append(Browser(str(client.make_url("/"))))
        return browsers[-1]

    yield browser
    for opened in browsers:
        await opened.close()


async def sessions_of(database, username: str) -> int:
    async with database.read() as session:
        return await session.scalar(select(func.count()).select_from(WebSession)
                                    .join(User, User.id == WebSession.user_id).where(User.username == username))


async def users(database) -> int:
    async with database.read() as session:
        return await session.scalar(select(func.count()).select_from(User))


async def signed_in(browser: Browser, cas_server: CasServer, username: str, next_path: str = "/tasks") -> Browser:
    await browser.get(f"/login?next={next_path}")
    assert browser.url.startswith(cas_server.url + "/login?service="), browser.url
    return await submit_cas_login(browser, username, CAS_PASSWORD)


async def test_the_hall_sends_people_to_cas_and_its_ticket_signs_them_in(cas_hall, cas_server, database):
    browser = cas_hall()
    await browser.get("/tasks", follow=False)
    assert browser.status == 303 and browser.headers["Location"] == "/login?next=/tasks"
    await browser.get("/login?next=%2Ftasks", follow=False)
    service = parse_qs(urlsplit(browser.headers["Location"]).query)["service"][0]
    assert browser.headers["Location"].startswith(cas_server.url + "/login?")
    assert service == f"{browser.base_url}/login?next=%2Ftasks"
    await signed_in(browser, cas_server, "t2001")
    assert browser.status == 200 and browser.url == browser.base_url + "/tasks"
    assert text_of(browser.html, "current-user") == "张伟(t2001)"
    assert await sessions_of(database, "t2001") == 1
    [event] = await entries(database, username="t2001", event="login_succeeded")
    assert event.channel == "cas"


async def test_a_forged_or_reused_ticket_is_refused(cas_hall, cas_server, database):
    forged = cas_hall()
    await forged.get("/login?ticket=ST-forged-0123456789")
    assert forged.status == 401 and text_of(forged.html, "login-error") == "统一身份认证票据无效或已使用,请重新登录"
    assert forged.cookie("campus_session") is None

    browser = cas_hall()
    await browser.get("/login")
    await submit_cas_login(browser, "t2001", CAS_PASSWORD, follow=False)
    callback = browser.headers["Location"]
    assert callback.startswith(browser.base_url + "/login?ticket=ST-")
    await browser.get(callback.removeprefix(browser.base_url))
    assert browser.url == browser.base_url + "/" and by_testid(browser.html, "current-user")

    thief = cas_hall()
    await thief.get(callback.removeprefix(browser.base_url))
    assert thief.status == 401 and thief.cookie("campus_session") is None
    assert by_testid(thief.html, "cas-login") and by_testid(thief.html, "local-login")
    assert await sessions_of(database, "t2001") == 1


async def test_a_cas_user_unknown_here_gets_a_clear_page_and_nothing_is_created(cas_hall, cas_server, database):
    before = await users(database)
    browser = cas_hall()
    await signed_in(browser, cas_server, "ghost")
    assert browser.status == 403
    assert "统一身份认证账号 ghost 尚未开通校务服务大厅" in text_of(browser.html, "login-error")
    assert browser.cookie("campus_session") is None and await users(database) == before
    async with database.read() as session:
        assert await session.scalar(select(func.count()).select_from(WebSession)) == 0
    [event] = await entries(database, username="ghost")
    assert (event.event, event.channel, event.target) == ("login_failed", "cas", "cas_unknown_user")


async def test_single_logout_from_cas_ends_the_session_its_ticket_started(cas_hall, cas_server, database):
    browser = cas_hall()
    await signed_in(browser, cas_server, "t2001")
    other = cas_hall()  # the same person in another browser, by password: not that ticket's session
    await other.get("/login?local=1")
    await other.post("/login", [("username", "t2001"), ("password", "Demo@2026"), ("next", "/")])
    assert await sessions_of(database, "t2001") == 2
    # Logging out at CAS (from any of the college's systems): CAS posts a logoutRequest to us.
    async with browser.session.get(cas_server.url + "/logout") as response:
        assert response.status == 200
    assert await sessions_of(database, "t2001") == 1
    await browser.get("/tasks", follow=False)
    assert browser.status == 303 and browser.headers["Location"].startswith("/login")
    await other.get("/tasks")
    assert other.status == 200 and by_testid(other.html, "current-user")


async def test_logging_out_of_the_hall_also_ends_the_cas_sign_on(cas_hall, cas_server, database):
    browser = cas_hall()
    await signed_in(browser, cas_server, "t2001")
    await browser.post("/logout", [], follow=False)
    cas_logout = browser.headers["Location"]
    assert browser.status == 303 and cas_logout.startswith(cas_server.url + "/logout?")
    assert parse_qs(urlsplit(cas_logout).query) == {"service": [browser.base_url + "/login"]}
    assert await sessions_of(database, "t2001") == 0
    async with browser.session.get(cas_logout) as response:
        await browser._record(response)
    # CAS returns the browser to /login, which sends it to CAS: whose sign-on has ended, so it asks again.
    assert browser.url.startswith(cas_server.url + "/login?service=") and "csrfmiddlewaretoken" in browser.html


async def test_a_forced_password_change_does_not_apply_to_cas_sign_in(cas_hall, cas_server, database):
    async def must_change(value: bool) -> None:
        async with database.write() as session:
            await session.execute(update(User).where(User.username == "t2001").values(must_change_password=value))

    await must_change(True)
    try:
        browser = cas_hall()
        await signed_in(browser, cas_server, "t2001", "/applications")
        assert browser.status == 200 and browser.url == browser.base_url + "/applications"
        local = cas_hall()
        await local.get("/login?local=1")
        await local.post("/login", [("username", "t2001"), ("password", "Demo@2026"), ("next", "/")])
        assert local.url.startswith(local.base_url + "/password")
    finally:
        await must_change(False)


async def test_local_passwords_still_work_with_cas_configured(cas_hall, cas_server, database):
    browser = cas_hall()
    await browser.get("/login?local=1&next=%2Ftasks")
    assert browser.status == 200 and by_testid(browser.html, "login-username")
    assert by_testid(browser.html, "cas-login")[0]["attrs"]["href"] == "/login?next=%2Ftasks"
    await browser.post("/login", [("username", "t2001"), ("password", "Demo@2026"), ("next", "/tasks")])
    assert browser.url == browser.base_url + "/tasks" and by_testid(browser.html, "current-user")
    await browser.post("/logout", [], follow=False)
    assert browser.headers["Location"] == "/login?local=1"  # a password session: CAS is not involved


async def test_cas_protocol_2_validates_at_service_validate(aiohttp_client, cas_settings, cas_server, database, clock):
    settings = dataclasses.replace(cas_settings, cas_protocol="2.0")
    client = await aiohttp_client(create_app(settings, Workflow(settings.timezone, now=clock)),
                                  server_kwargs={"host": "127.0.0.1", "port": settings.port})
    browser = Browser(str(client.make_url("/")))
    try:
        await signed_in(browser, cas_server, "t2001", "/")
        assert browser.url == browser.base_url + "/" and by_testid(browser.html, "current-user")
    finally:
        await browser.close()


async def test_without_cas_the_login_page_is_the_password_form(hall):
    browser = await hall.browser()
    await browser.get("/login?ticket=ST-anything")
    assert browser.status == 200 and by_testid(browser.html, "login-username") and not by_testid(browser.html, "cas-login")
    await browser.post("/login", [("logoutRequest", "<x/>")], csrf=None)
    assert browser.status == 403  # no CAS, no back channel: an untokened POST is refused as ever


# ---------------------------------------------------------------- the XML CAS sends, parsed safely

SUCCESS = b"""<cas:serviceResponse xmlns:cas="http://www.yale.edu/tp/cas">
  <cas:authenticationSuccess><cas:user>t2001</cas:user></cas:authenticationSuccess></cas:serviceResponse>"""
FAILURE = b"""<cas:serviceResponse xmlns:cas="http://www.yale.edu/tp/cas">
  <cas:authenticationFailure code="INVALID_TICKET">Ticket ST-1 not recognized</cas:authenticationFailure>
</cas:serviceResponse>"""
BOMB = b"""<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>
<cas:serviceResponse xmlns:cas="http://www.yale.edu/tp/cas"><cas:authenticationSuccess>
<cas:user>&lol2;</cas:user></cas:authenticationSuccess></cas:serviceResponse>"""
EXTERNAL = b"""<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>
<cas:serviceResponse xmlns:cas="http://www.yale.edu/tp/cas"><cas:authenticationSuccess>
<cas:user>&x;</cas:user></cas:authenticationSuccess></cas:serviceResponse>"""


def test_a_validation_success_names_the_user():
    assert cas.username_from_validation(SUCCESS) == "t2001"


@pytest.mark.parametrize("body", [FAILURE, BOMB, EXTERNAL, b"not xml", b"<other/>",
                                  SUCCESS.replace(b"t2001", b" ")])
def test_anything_but_a_plain_success_is_refused(body):
    with pytest.raises(cas.TicketRefused):
        cas.username_from_validation(body)


def test_a_logout_request_names_its_ticket_and_entities_are_refused():
    request = ('<samlp:LogoutRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" '
               'xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="1" Version="2.0">'
               '<saml:NameID/><samlp:SessionIndex>ST-42</samlp:SessionIndex></samlp:LogoutRequest>')
    assert cas.logout_request_ticket(request) == "ST-42"
    assert cas.logout_request_ticket(BOMB.decode()) is None and cas.logout_request_ticket("<x") is None


def test_cas_needs_the_public_url_and_a_known_protocol():
    from backend.config import ConfigError
    base = {"BACKEND_SECRET_KEY": "k" * 40}
    assert Settings.from_env(base).cas_server_url is None
    with pytest.raises(ConfigError, match="BACKEND_PUBLIC_URL"):
        Settings.from_env({**base, "CAS_SERVER_URL": "https://cas.example.edu.cn/cas"})
    with pytest.raises(ConfigError, match="CAS_PROTOCOL"):
        Settings.from_env({**base, "CAS_SERVER_URL": "https://cas.example.edu.cn/cas",
                           "BACKEND_PUBLIC_URL": "https://hall.example.edu.cn", "CAS_PROTOCOL": "1.0"})
    settings = Settings.from_env({**base, "CAS_SERVER_URL": "https://cas.example.edu.cn/cas/",
                                  "BACKEND_PUBLIC_URL": "https://hall.example.edu.cn/"})
    assert cas.login_url(settings, "/tasks") == ("https://cas.example.edu.cn/cas/login?service="
                                                 "https%3A%2F%2Fhall.example.edu.cn%2Flogin%3Fnext%3D%252Ftasks")
