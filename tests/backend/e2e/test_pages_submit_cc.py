"""抄送 on the hall's submit form: the people picked (several) see the application under
抄送我的; an unknown username is shown next to the field and nothing is written."""
from sqlalchemy import func, select

from backend.db.models import Application

from tests.support.forms import staff_leave
from tests.support.pages import by_testid, text_of


def fields(form, cc=None):
    posted = [(f"form.{key}", str(value)) for key, value in form.items()]
    return posted + ([("cc", cc)] if cc is not None else [])


async def applications(database):
    async with database.read() as session:
        return await session.scalar(select(func.count()).select_from(Application))


async def test_the_submit_form_has_a_cc_picker_for_several_people_and_resubmit_has_none(hall):
    browser = await hall.browser("t2001")
    await browser.get("/matters/staff_leave")
    picker = by_testid(browser.html, "person-picker-cc")[0]
    assert "data-person-multiple" in picker["attrs"]
    box = by_testid(browser.html, "input-cc")[0]
    assert box["attrs"]["name"] == "cc" and box["attrs"]["value"] == "" and "required" not in box["attrs"]
    await browser.get("/matters/seal_usage")  # no person field, still the 抄送 picker and its script
    assert by_testid(browser.html, "person-picker-cc")
    assert '<script src="/static/person_picker.js" defer></script>' in browser.html


async def test_people_copied_at_submit_see_it_under_cc_mine(hall):
    browser = await hall.browser("t2001")
    await browser.get("/matters/staff_leave")
    await browser.post("/matters/staff_leave", fields(staff_leave(), cc="t1204, t1203、t1204"))
    assert browser.status == 200 and "/progress" in browser.url, text_of(browser.html, "form-error")
    mine = (await hall.api.get("/applications", "t2001"))["items"]
    assert len(mine) == 1
    for username in ("t1204", "t1203"):
        copied = (await hall.api.get("/applications?cc=1", username))["items"]
        assert [a["id"] for a in copied] == [mine[0]["id"]]
        page = await hall.browser(username)
        await page.get("/applications?cc=1")
        rows = by_testid(page.html, "cc-row")
        assert [r["attrs"]["data-id"] for r in rows] == [str(mine[0]["id"])]
    assert (await hall.api.get("/applications?cc=1", "t1202"))["items"] == []


async def test_an_unknown_cc_username_is_shown_at_the_field_and_nothing_is_written(hall, database):
    browser = await hall.browser("t2001")
    await browser.get("/matters/staff_leave")
    before = await applications(database)
    await browser.post("/matters/staff_leave", fields(staff_leave(), cc="t1204,nobody404"))
    assert browser.status == 400
    assert "nobody404" in text_of(browser.html, "error-cc")
    assert by_testid(browser.html, "input-cc")[0]["attrs"]["value"] == "t1204,nobody404"  # kept to correct
    assert await applications(database) == before
    assert (await hall.api.get("/applications?cc=1", "t1204"))["items"] == []


async def test_too_many_people_copied_is_refused(hall, database):
    browser = await hall.browser("t2001")
    await browser.get("/matters/staff_leave")
    before = await applications(database)
    await browser.post("/matters/staff_leave", fields(staff_leave(), cc=",".join(f"u{i}" for i in range(21))))
    assert browser.status == 400 and "最多抄送" in text_of(browser.html, "error-cc")
    assert await applications(database) == before
