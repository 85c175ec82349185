"""Logging in and out of the web hall, sessions, CSRF and the pages' security headers."""
from sqlalchemy import func, select

from backend.db.models import Application, WebSession

from tests.support.forms import seal_usage
from tests.support.pages import by_testid, text_of


async def sessions_of(database, username):
    from backend.db.models import User
    async with database.read() as session:
        return await session.scalar(select(func.count()).select_from(WebSession).join(User, User.id == WebSession.user_id)
                                    .where(User.username == username))


async def applications(database):
    async with database.read() as session:
        return await session.scalar(select(func.count()).select_from(Application))


def seal_fields(**override):
    form = seal_usage(**override)
    return [(f"form.{key}", str(value)) for key, value in form.items()] + [("approvers.leader", "t0002")]


async def test_logging_in_shows_the_hall_and_logging_out_ends_the_session(hall, database):
    browser = await hall.browser()
    await browser.get("/login")
    assert browser.status == 200 and by_testid(browser.html, "login-submit")
    await browser.post("/login", [("username", "t2001"), ("password", "Demo@2026"), ("next", "/tasks")])
    assert browser.status == 200 and browser.url.endswith("/tasks")
    assert text_of(browser.html, "current-user") == "张伟(t2001)"
    assert await sessions_of(database, "t2001") == 1
    await browser.post("/logout", [])
    assert browser.url.endswith("/login") and not by_testid(browser.html, "current-user")
    assert await sessions_of(database, "t2001") == 0
    await browser.get("/tasks")
    assert browser.url.endswith("/login?next=/tasks") and by_testid(browser.html, "login-username")


async def test_a_wrong_password_is_refused_and_starts_no_session(hall, database):
    browser = await hall.browser()
    await browser.get("/login")
    await browser.post("/login", [("username", "t2001"), ("password", "wrong-password")])
    assert browser.status == 401
    assert text_of(browser.html, "login-error") == "用户名或密码错误"
    assert browser.cookie("campus_session") is None and await sessions_of(database, "t2001") == 0
    await browser.post("/login", [("username", ""), ("password", "")])
    assert browser.status == 401 and text_of(browser.html, "login-error") == "请输入用户名和密码"


async def test_pages_need_a_login(hall, database):
    browser = await hall.browser()
    for path in ("/", "/tasks", "/applications", "/matters/seal_usage", "/applications/1/progress",
                 "/web/org/users?q=王"):
        await browser.get(path, follow=False)
        assert browser.status == 303 and browser.headers["Location"].startswith("/login?next="), path
    await browser.get("/login")
    await browser.post("/matters/seal_usage", seal_fields())
    assert browser.status == 401 and await applications(database) == 0


async def test_the_session_cookie_is_httponly_and_samesite_and_expires(hall, clock):
    browser = await hall.browser()
    await browser.get("/login")
    async with browser.session.post(browser.base_url + "/login", allow_redirects=False, data={
            "username": "t2001", "password": "Demo@2026", "csrf_token": browser.csrf}) as response:
        cookie = response.cookies["campus_session"]
        assert response.status == 303 and response.headers["Location"] == "/"
    assert cookie["httponly"] and cookie["samesite"] == "Lax" and cookie["path"] == "/"
    await browser.get("/tasks")
    assert browser.status == 200 and by_testid(browser.html, "tab-todo")
    clock.advance(hours=8, minutes=1)  # past the session's lifetime
    await browser.get("/tasks", follow=False)
    assert browser.status == 303 and browser.headers["Location"].startswith("/login")


async def test_login_never_redirects_off_the_site(hall):
    browser = await hall.browser()
    await browser.get("/login")
    await browser.post("/login", [("username", "t2001"), ("password", "Demo@2026"),
                                  ("next", "//evil.example/steal")], follow=False)
    assert browser.status == 303 and browser.headers["Location"] == "/"


async def test_a_missing_wrong_or_cross_site_csrf_token_is_refused_and_changes_nothing(hall, database):
    browser = await hall.browser("t2001")
    await browser.get("/matters/seal_usage")
    for csrf, headers in ((None, {}), ("forged-token", {}), ("page", {"Origin": "http://evil.example"})):
        await browser.post("/matters/seal_usage", seal_fields(), csrf=csrf, headers=headers)
        assert browser.status == 403, (csrf, headers)
        assert by_testid(browser.html, "error-page")[0]["attrs"]["data-code"] == "csrf_failed"
        assert "安全校验失败" in text_of(browser.html, "error")
        await browser.get("/matters/seal_usage")
    assert await applications(database) == 0
    # The logout form is protected too: without the token the session survives.
    await browser.post("/logout", [], csrf=None)
    assert browser.status == 403 and await sessions_of(database, "t2001") == 1
    # Another user's token does not work for this session either.
    other = await hall.browser("t2101")
    await browser.post("/matters/seal_usage", seal_fields(), csrf=other.csrf)
    assert browser.status == 403 and await applications(database) == 0


async def test_a_script_sends_the_token_in_a_header(hall, database):
    browser = await hall.browser("t2001")
    await browser.get("/matters/seal_usage")  # the form's one-time submit token comes from its page
    await browser.post("/matters/seal_usage", seal_fields(), csrf=None, headers={"X-CSRF-Token": browser.csrf})
    assert browser.status == 200 and "/progress" in browser.url and await applications(database) == 1
    await browser.post("/logout", [], csrf=None, headers={"X-CSRF-Token": "nope", "Accept": "application/json"})
    assert browser.status == 403 and browser.headers["Content-Type"].startswith("application/json")


async def test_the_login_form_itself_needs_its_token(hall, database):
    browser = await hall.browser()
    await browser.get("/login")
    await browser.post("/login", [("username", "t2001"), ("password", "Demo@2026")], csrf=None)
    assert browser.status == 403 and await sessions_of(database, "t2001") == 0


async def test_pages_send_security_headers(hall):
    browser = await hall.browser("t2001")
    await browser.get("/")
    csp = browser.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
    assert browser.headers["X-Frame-Options"] == "DENY" and browser.headers["X-Content-Type-Options"] == "nosniff"
    assert browser.headers["Cache-Control"] == "no-store"
    assert "<script>" not in browser.html  # no inline script anywhere: CSP would block it
    await browser.get("/static/hall.css")
    assert browser.status == 200 and "svg.flow" in browser.html
