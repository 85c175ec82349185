"""The 已办 tab's filter on SQLite and PostgreSQL: 办理结果 and 办理日期 narrow the list (the same
filter as GET /tasks) and the choice stays selected; a bad date is a 400
page that says so and lists nothing."""
import re

from tests.support.dates import day
from tests.support.forms import SEAL
from tests.support.pages import by_testid, text_of

APPROVER = "t0002"


async def decided(hall, move: str) -> str:
    app = await hall.api.post("/applications", "t2001", json=SEAL(), expect=201)
    tasks = (await hall.api.get("/tasks", APPROVER))["items"]
    task = next(t for t in tasks if t["number"] == app["number"])
    await hall.api.post(f"/tasks/{task['id']}/{move}", APPROVER, json={"opinion": "请补充" if move == "return" else ""})
    return app["number"]


def numbers(html: str) -> list[str]:
    return [r["attrs"]["data-number"] for r in by_testid(html, "task-row")]


async def test_the_done_tab_is_narrowed_by_outcome_and_day(hall):
    approved, returned = await decided(hall, "approve"), await decided(hall, "return")
    browser = await hall.browser(APPROVER)
    await browser.get("/tasks?tab=done")
    assert sorted(numbers(browser.html)) == sorted([approved, returned]) and by_testid(browser.html, "done-filter")
    await browser.get("/tasks?tab=done&decision=return")
    assert numbers(browser.html) == [returned]
    assert re.findall(r'<option value="([^"]*)" selected>', browser.html) == ["return"]  # the choice stays
    await browser.get(f"/tasks?tab=done&decision=approve,agree&decided_from={day(0)}&decided_to={day(0)}")
    assert numbers(browser.html) == [approved]
    await browser.get(f"/tasks?tab=done&decided_from={day(1)}")
    assert numbers(browser.html) == [] and by_testid(browser.html, "empty")


async def test_a_bad_filter_is_a_clear_400_page(hall):
    await decided(hall, "approve")
    browser = await hall.browser(APPROVER)
    await browser.get("/tasks?tab=done&decided_from=12/01")
    assert browser.status == 400 and "decided_from" in text_of(browser.html, "error")
    assert numbers(browser.html) == []
    await browser.get("/tasks?tab=done&decision=approved")
    assert browser.status == 400 and numbers(browser.html) == []
