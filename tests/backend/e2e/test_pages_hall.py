"""办事大厅 pages: centres and search, a matter's form from its schema, submitting it."""
import re

from sqlalchemy import func, select

from backend.db.models import Application, Task

from tests.support.dates import college_today, day
from tests.support.forms import seal_usage
from tests.support.pages import by_testid, text_of


def fields(form, approvers=None):
    posted = []
    for key, value in form.items():
        for item in value if isinstance(value, list) else [value]:
            posted.append((f"form.{key}", str(item)))
    return posted + [(f"approvers.{node}", who) for node, who in (approvers or {}).items()]


async def count(database, model):
    async with database.read() as session:
        return await session.scalar(select(func.count()).select_from(model))


async def test_the_hall_lists_centres_and_finds_matters(hall):
    browser = await hall.browser("t2001")
    assert by_testid(browser.html, "center-xzfw") and by_testid(browser.html, "matter-seal_usage")
    await browser.get("/?q=" + "我要盖章")
    results = by_testid(browser.html, "search-results")[0]["text"]
    assert "公章使用申请" in results and "请假申请" not in results
    await browser.get("/?q=" + "量子力学")
    assert by_testid(browser.html, "no-results")


async def test_a_matter_form_renders_every_field_type_with_required_marks(hall):
    browser = await hall.browser("t2001")
    await browser.get("/matters/staff_leave")
    kinds = {f["attrs"]["data-testid"]: f["attrs"]["data-type"] for f in by_testid(browser.html, "field-reason")
             + by_testid(browser.html, "field-start_time") + by_testid(browser.html, "field-days")}
    assert kinds == {"field-reason": "textarea", "field-start_time": "datetime", "field-days": "number"}
    inputs = {key: by_testid(browser.html, f"input-{key}")[0] for key in
              ("leave_type", "start_time", "days", "reason", "handover", "proof")}
    assert inputs["leave_type"]["tag"] == "select" and inputs["reason"]["tag"] == "textarea"
    assert inputs["start_time"]["attrs"]["type"] == "datetime-local"
    assert inputs["days"]["attrs"]["type"] == "number" and inputs["days"]["attrs"]["min"] == "0.5"
    assert "工号" in inputs["handover"]["attrs"]["placeholder"] and inputs["proof"]["attrs"]["type"] == "hidden"
    upload = by_testid(browser.html, "file-proof")[0]["attrs"]  # 证明材料: files, several, limits shown
    assert upload["type"] == "file" and "multiple" in upload and ".pdf" in upload["accept"]
    assert "不超过 1 MB,一次最多 3 个" in text_of(browser.html, "limits-proof")  # the test settings' limits
    assert "PDF" in text_of(browser.html, "limits-proof")
    assert "required" in inputs["reason"]["attrs"] and "required" not in inputs["proof"]["attrs"]
    assert "*" in text_of(browser.html, "field-reason") and "*" not in text_of(browser.html, "field-proof")
    assert not by_testid(browser.html, "approver-leader")  # no 选择审核人 in this matter
    await browser.get("/matters/business_trip")
    assert by_testid(browser.html, "input-start_date")[0]["attrs"]["type"] == "date"
    transport = text_of(browser.html, "field-transport")
    assert all(option in transport for option in ("飞机", "火车(高铁)", "自驾"))
    assert browser.html.count('name="form.transport" value=') == 5  # one checkbox per option


async def test_submitting_the_form_with_a_chosen_approver_creates_the_application(hall, database):
    browser = await hall.browser("t2001")
    await browser.get("/matters/seal_usage")
    candidates = by_testid(browser.html, "approver-leader")[0]["text"]
    assert all(name in candidates for name in ("请选择审核人",)) and candidates.count("校领导") == 3
    await browser.post("/matters/seal_usage", fields(seal_usage(), {"leader": "t0002"}))
    assert browser.status == 200 and re.search(r"/applications/\d+/progress\?notice=submitted$", browser.url)
    number = text_of(browser.html, "application-number")
    assert re.fullmatch(rf"SW{college_today():%Y%m%d}-0001", number) and text_of(browser.html, "notice") == "提交成功!"
    mine = (await hall.api.get("/applications", "t2001"))["items"]
    assert [a["number"] for a in mine] == [number]
    detail = await hall.api.get(f"/applications/{mine[0]['id']}", "t2001")
    assert detail["form"] == seal_usage() and detail["approvers"] == {"leader": "t0002"}
    assert [p["username"] for p in detail["current_assignees"]] == ["t0002"]


async def test_multichoice_and_dates_arrive_as_the_workflow_expects(hall):
    browser = await hall.browser("t2001")
    await browser.get("/matters/business_trip")
    form = {"destination": "北京市", "start_date": day(3), "end_date": day(5), "transport": ["飞机", "自驾"],
            "budget": "3000", "purpose": "参加全国职业院校艺术展演"}
    await browser.post("/matters/business_trip", fields(form, {"leader": "t0001"}))
    assert browser.status == 200, text_of(browser.html, "form-error")
    mine = (await hall.api.get("/applications", "t2001"))["items"]
    detail = await hall.api.get(f"/applications/{mine[0]['id']}", "t2001")
    assert detail["form"]["transport"] == ["飞机", "自驾"] and detail["form"]["budget"] == 3000


async def test_a_refused_form_shows_the_backends_messages_keeps_the_answers_and_creates_nothing(hall, database):
    browser = await hall.browser("t2001")
    await browser.get("/matters/seal_usage")
    bad = seal_usage(copies="99", document_name="<b>保留我填写的内容</b>")
    del bad["purpose"]
    await browser.post("/matters/seal_usage", fields(bad))  # and no 选择审核人
    assert browser.status == 400
    assert text_of(browser.html, "error-copies") == "「用印份数」不能大于 50"
    assert text_of(browser.html, "error-purpose") == "「用印事由」为必填项"
    assert "不能大于 50" in text_of(browser.html, "form-error")
    assert by_testid(browser.html, "input-copies")[0]["attrs"]["value"] == "99"
    assert by_testid(browser.html, "input-document_name")[0]["attrs"]["value"] == "<b>保留我填写的内容</b>"
    assert await count(database, Application) == 0 and await count(database, Task) == 0
    # The form is fine now, but the 选择审核人 choice is still missing.
    await browser.post("/matters/seal_usage", fields(seal_usage()))
    assert browser.status == 400 and "需要选择审核人" in text_of(browser.html, "error-approvers")
    await browser.post("/matters/seal_usage", fields(seal_usage(), {"leader": "t2101"}))  # not a candidate
    assert browser.status == 400 and "请选择有效的审核人" in text_of(browser.html, "error-approvers")
    assert await count(database, Application) == 0


async def test_an_unknown_matter_is_a_clear_404_page(hall):
    browser = await hall.browser("t2001")
    await browser.get("/matters/no_such_matter")
    assert browser.status == 404 and "没有找到事项 no_such_matter" in text_of(browser.html, "error")


async def test_a_double_click_submits_the_form_once_and_both_posts_show_that_application(hall, database):
    browser = await hall.browser("t2001")
    await browser.get("/matters/seal_usage")
    posted = fields(seal_usage(), {"leader": "t0002"})
    form_page = browser.html
    await browser.post("/matters/seal_usage", posted)
    first = browser.url
    browser.html = form_page  # the second click comes from the same form, with the same token
    await browser.post("/matters/seal_usage", posted)
    assert browser.url == first and re.search(r"/applications/\d+/progress\?notice=submitted$", first)
    assert await count(database, Application) == 1


async def test_concurrent_posts_of_one_form_make_one_application(hall, database):
    import asyncio

    tabs = [await hall.browser("t2001") for _ in range(4)]
    for tab in tabs:
        await tab.get("/matters/seal_usage")
    token = re.search(r'name="submit_token" value="([^"]+)"', tabs[0].html).group(1)
    posted = fields(seal_usage(), {"leader": "t0002"}) + [("submit_token", token)]
    await asyncio.gather(*(tab.post("/matters/seal_usage", posted) for tab in tabs))
    assert [tab.status for tab in tabs] == [200] * 4
    assert len({tab.url for tab in tabs}) == 1 and "notice=submitted" in tabs[0].url
    assert await count(database, Application) == 1


async def test_a_used_form_token_with_other_answers_is_refused_and_a_missing_one_too(hall, database):
    browser = await hall.browser("t2001")
    await browser.get("/matters/seal_usage")
    form_page = browser.html
    await browser.post("/matters/seal_usage", fields(seal_usage(), {"leader": "t0002"}))
    browser.html = form_page  # back to the submitted form, changed, sent again
    await browser.post("/matters/seal_usage", fields(seal_usage(copies="3"), {"leader": "t0002"}))
    assert browser.status == 422 and "已用于另一个请求" in text_of(browser.html, "form-error")
    fresh = re.search(r'name="submit_token" value="([^"]+)"', browser.html).group(1)
    assert fresh not in form_page  # the refused form comes back with a new token: submitting it works
    await browser.post("/matters/seal_usage", fields(seal_usage(copies="3"), {"leader": "t0002"}))
    assert browser.status == 200 and "notice=submitted" in browser.url
    browser.html = ""  # a POST without the form's token (a script, a stale page)
    await browser.get("/matters/seal_usage")
    await browser.post("/matters/seal_usage", fields(seal_usage(), {"leader": "t0002"}) + [("submit_token", "x")])
    assert browser.status == 400 and "表单已过期" in text_of(browser.html, "form-error")
    assert await count(database, Application) == 2
