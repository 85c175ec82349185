"""After logging in the hall goes back where the person was going — on this site only:
what a browser would read as another site (after dropping tabs and newlines and reading
backslashes as slashes) leads to the hall instead."""
import pytest

from tests.support.databases import DEMO_PASSWORD
from tests.support.pages import by_testid

ELSEWHERE = ["//evil.example", "/\t/evil.example", "/\n/evil.example", "/\r\n/evil.example", "\t//evil.example",
             "/\\evil.example", "\\\\evil.example", "/\\/evil.example", "https://evil.example/",
             "http:/evil.example", "javascript:alert(1)", "evil.example", " //evil.example", "/\x00/evil.example"]
ON_THIS_SITE = ["/tasks", "/applications/1/progress?notice=submitted", "/matters/seal_usage", "/%2F/x"]


async def log_in_going_to(hall, next_path):
    browser = await hall.browser()
    await browser.get("/login")
    await browser.post("/login", [("username", "t2001"), ("password", DEMO_PASSWORD), ("next", next_path)],
                       follow=False)
    assert browser.status == 303
    location = browser.headers["Location"]
    await browser.close()
    return location


@pytest.mark.parametrize("next_path", ELSEWHERE)
async def test_a_next_that_a_browser_would_read_as_another_site_goes_to_the_hall(hall, next_path):
    assert await log_in_going_to(hall, next_path) == "/"


@pytest.mark.parametrize("next_path", ON_THIS_SITE)
async def test_a_path_on_this_site_is_kept(hall, next_path):
    assert await log_in_going_to(hall, next_path) == next_path


async def test_the_login_page_of_someone_logged_in_redirects_safely_too(hall):
    browser = await hall.browser("t2001")
    await browser.get("/login?next=/%09/evil.example", follow=False)
    assert browser.status == 303 and browser.headers["Location"] == "/"
    await browser.get("/login?next=/tasks", follow=False)
    assert browser.headers["Location"] == "/tasks"
    await browser.get("/login?next=/%09/evil.example")
    assert not by_testid(browser.html, "login-username")
