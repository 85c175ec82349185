"""People change their own password (API and hall), an initial password must be changed
first, the policy says why a password is refused, and a change ends the other sessions."""
import pytest

from tests.support.accounts import people_of_a_test
from tests.support.databases import DEMO_PASSWORD
from tests.support.pages import by_testid, text_of

NEW_PASSWORD = "Kunqu-2026-new"


@pytest.fixture
async def new_person(database):
    async for make in people_of_a_test(database):
        yield make


async def log_in(client, username, password=DEMO_PASSWORD, expect=200):
    response = await client.post("/api/v1/auth/login", json={"username": username, "password": password})
    body = await response.json()
    assert response.status == expect, body
    return body


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


async def change(client, token, current, new):
    response = await client.post("/api/v1/me/password", headers=bearer(token),
                                 json={"current_password": current, "new_password": new})
    return response.status, await response.json()


async def test_a_change_through_the_api_answers_a_fresh_token_and_ends_every_earlier_one(api, new_person):
    username = await new_person()
    first, second = (await log_in(api.client, username))["token"], (await log_in(api.client, username))["token"]
    status, body = await change(api.client, first, DEMO_PASSWORD, NEW_PASSWORD)
    assert status == 200 and body["token_type"] == "Bearer"
    for old in (first, second):
        response = await api.client.get("/api/v1/me", headers=bearer(old))
        assert response.status == 401 and (await response.json())["error"]["code"] == "invalid_token"
    response = await api.client.get("/api/v1/me", headers=bearer(body["token"]))
    assert response.status == 200 and (await response.json())["username"] == username
    await log_in(api.client, username, DEMO_PASSWORD, expect=401)
    assert (await log_in(api.client, username, NEW_PASSWORD))["password_change_required"] is False


@pytest.mark.parametrize("new, message", [
    ("Ab1!", "新密码至少需要 8 位"),
    ("20261201", "新密码须至少包含字母、数字、符号中的两类(不能全是数字或全是字母)"),
    ("onlyletters", "新密码须至少包含字母、数字、符号中的两类(不能全是数字或全是字母)"),
    ("Password1", "新密码过于常见,请换一个"),
    (DEMO_PASSWORD, "新密码不能与当前密码相同"),
])
async def test_a_new_password_that_breaks_the_policy_is_refused_with_the_reason(api, new_person, new, message):
    username = await new_person()
    token = (await log_in(api.client, username))["token"]
    status, body = await change(api.client, token, DEMO_PASSWORD, new)
    assert status == 400 and body["error"] == {"code": "password_policy", "message": message}


async def test_the_new_password_may_not_contain_the_username_and_the_current_one_must_be_right(api, new_person):
    username = await new_person()
    token = (await log_in(api.client, username))["token"]
    status, body = await change(api.client, token, DEMO_PASSWORD, f"x-{username.upper()}-9")
    assert status == 400 and body["error"]["message"] == "新密码不能包含账号"
    status, body = await change(api.client, token, "not-my-password", NEW_PASSWORD)
    assert status == 400 and body["error"]["code"] == "current_password_wrong"
    status, body = await change(api.client, token, "", NEW_PASSWORD)
    assert status == 400 and body["error"]["code"] == "passwords_required"


async def test_an_initial_password_must_be_changed_before_the_api_answers_anything_else(api, new_person):
    username = await new_person(must_change=True)
    body = await log_in(api.client, username)
    assert body["password_change_required"] is True
    for method, path in (("GET", "/api/v1/me"), ("GET", "/api/v1/tasks"), ("POST", "/api/v1/applications")):
        response = await api.client.request(method, path, headers=bearer(body["token"]), json={})
        assert response.status == 403, path
        assert (await response.json())["error"]["code"] == "password_change_required"
    status, changed = await change(api.client, body["token"], DEMO_PASSWORD, NEW_PASSWORD)
    assert status == 200
    response = await api.client.get("/api/v1/me", headers=bearer(changed["token"]))
    assert response.status == 200
    assert (await log_in(api.client, username, NEW_PASSWORD))["password_change_required"] is False


async def test_the_action_server_may_act_for_someone_who_still_has_an_initial_password(api, new_person,
                                                                                       service_headers):
    username = await new_person(must_change=True)
    response = await api.client.get("/api/v1/me", headers=service_headers(f"web:{username}"))
    assert response.status == 200


async def test_an_initial_password_in_the_hall_leads_to_the_change_page_and_then_where_one_was_going(
        hall, new_person):
    username = await new_person(must_change=True)
    browser = await hall.browser()
    await browser.get("/login?next=/tasks")
    await browser.post("/login", [("username", username), ("password", DEMO_PASSWORD), ("next", "/tasks")])
    assert browser.url.endswith("/password?next=/tasks") and by_testid(browser.html, "password-forced")
    await browser.get("/applications")
    assert "/password?next=" in browser.url and by_testid(browser.html, "password-forced")
    page = browser.html
    await browser.get("/web/org/users?q=王", follow=False)
    assert browser.status == 303 and browser.headers["Location"].startswith("/password?next=")
    browser.html = page
    await browser.post("/applications/terminate", [("ids", "1")])
    assert browser.status == 403 and "请先修改初始密码" in browser.html
    await browser.get("/password?next=/tasks")
    await browser.post("/password", [("current_password", DEMO_PASSWORD), ("new_password", NEW_PASSWORD),
                                     ("confirm", NEW_PASSWORD), ("next", "/tasks")])
    assert browser.status == 200 and browser.url.endswith("/tasks") and by_testid(browser.html, "nav-tasks")


async def test_a_change_in_the_hall_keeps_this_browser_and_logs_out_the_others(hall, new_person):
    username = await new_person()
    here, elsewhere = await hall.browser(username), await hall.browser(username)
    await here.get("/password")
    assert "至少 8 位" in text_of(here.html, "password-policy") and not by_testid(here.html, "password-forced")
    await here.post("/password", [("current_password", DEMO_PASSWORD), ("new_password", NEW_PASSWORD),
                                  ("confirm", "something-else-1")])
    assert here.status == 400 and text_of(here.html, "password-error") == "两次输入的新密码不一致"
    await here.post("/password", [("current_password", "wrong-one-1"), ("new_password", NEW_PASSWORD),
                                  ("confirm", NEW_PASSWORD)])
    assert here.status == 400 and text_of(here.html, "password-error") == "当前密码不正确"
    await here.post("/password", [("current_password", DEMO_PASSWORD), ("new_password", NEW_PASSWORD),
                                  ("confirm", NEW_PASSWORD)])
    assert here.status == 200 and "其他设备上的登录已退出" in text_of(here.html, "notice")
    await here.get("/")
    assert here.url.endswith("/") and by_testid(here.html, "current-user")
    await elsewhere.get("/")
    assert "/login" in elsewhere.url and by_testid(elsewhere.html, "login-username")


async def test_demo_people_go_straight_to_the_hall(hall):
    browser = await hall.browser("t2001")
    assert browser.url.endswith("/") and not by_testid(browser.html, "password-forced")
    assert by_testid(browser.html, "nav-password")
