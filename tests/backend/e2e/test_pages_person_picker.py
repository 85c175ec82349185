"""A person field on the web form: the org picker around the username box, on the application
form and the resubmit form; a username that names nobody is refused with nothing written."""
from sqlalchemy import func, select

from backend.db.models import Application

from tests.support.forms import staff_leave, submission
from tests.support.pages import by_testid, text_of


def fields(form):
    return [(f"form.{key}", str(value)) for key, value in form.items()]


async def applications(database):
    async with database.read() as session:
        return await session.scalar(select(func.count()).select_from(Application))


def picker_of(html, key):
    """The picker's parts for a person field: the posted box, the search, the tree."""
    assert by_testid(html, f"person-picker-{key}"), f"no person picker for {key}"
    box = by_testid(html, f"input-{key}")[0]
    assert box["attrs"]["name"] == f"form.{key}" and "工号" in box["attrs"]["placeholder"]
    assert by_testid(html, f"person-search-{key}") and by_testid(html, f"person-org-root-{key}")
    assert '<script src="/static/person_picker.js" defer></script>' in html
    return box


async def test_the_application_form_shows_the_picker_for_a_person_field_only(hall):
    browser = await hall.browser("t2001")
    await browser.get("/matters/staff_leave")
    box = picker_of(browser.html, "handover")
    assert box["attrs"]["value"] == "" and "required" not in box["attrs"]  # 工作交接人 is optional
    assert by_testid(browser.html, "field-handover")[0]["attrs"]["data-type"] == "person"
    assert not by_testid(browser.html, "person-picker-reason")
    await browser.get("/matters/seal_usage")  # no person field: only the 抄送 picker
    assert browser.html.count("data-person-picker") == 1 and by_testid(browser.html, "person-picker-cc")
    await browser.get("/applications")  # a page without a form: no script
    assert "person_picker.js" not in browser.html


async def test_an_unknown_username_is_shown_as_an_error_and_nothing_is_written(hall, database):
    browser = await hall.browser("t2001")
    await browser.get("/matters/staff_leave")
    before = await applications(database)
    await browser.post("/matters/staff_leave", fields(staff_leave(handover="nobody404")))
    assert browser.status == 400
    assert "没有找到" in text_of(browser.html, "form-error")
    assert text_of(browser.html, "error-handover") == "没有找到该人员"
    assert picker_of(browser.html, "handover")["attrs"]["value"] == "nobody404"  # kept to correct
    assert await applications(database) == before
    assert (await hall.api.get("/applications", "t2001"))["items"] == []


async def test_a_known_username_is_submitted_into_the_form_data(hall):
    browser = await hall.browser("t2001")
    await browser.get("/matters/staff_leave")
    await browser.post("/matters/staff_leave", fields(staff_leave(handover="t1204")))
    assert browser.status == 200 and "/progress" in browser.url, text_of(browser.html, "form-error")
    mine = (await hall.api.get("/applications", "t2001"))["items"]
    assert (await hall.api.get(f"/applications/{mine[0]['id']}", "t2001"))["form"]["handover"] == "t1204"


async def test_the_resubmit_form_keeps_the_chosen_person_in_the_picker(hall):
    app = await hall.api.post("/applications", "t2001", json=submission("staff_leave", staff_leave(handover="t1204")),
                              expect=201)
    approver = (await hall.api.get(f"/applications/{app['id']}", "t2001"))["current_assignees"][0]["username"]
    task = next(t for t in (await hall.api.get("/tasks?status=pending", approver))["items"]
                if t["number"] == app["number"])
    await hall.api.post(f"/tasks/{task['id']}/return", approver, json={"opinion": "请换一位交接人"})
    browser = await hall.browser("t2001")
    await browser.get(f"/applications/{app['id']}/edit")
    assert picker_of(browser.html, "handover")["attrs"]["value"] == "t1204"
    await browser.post(f"/applications/{app['id']}/edit", fields(staff_leave(handover="ghost")))
    assert browser.status == 400 and text_of(browser.html, "error-handover") == "没有找到该人员"
    detail = await hall.api.get(f"/applications/{app['id']}", "t2001")
    assert detail["status"] == "returned" and detail["form"]["handover"] == "t1204"
