"""Matters for the right people (issue 16 item 6): a matter's ``applicants`` decide what a
person is offered (centres, search, a matter's form, the hall) and what they may submit."""
from urllib.parse import quote

from sqlalchemy import func, select

from backend.db.models import Application, FlowRecord, OutboxMessage, Task

from tests.support.forms import staff_leave, submission
from tests.support.pages import by_testid, text_of

TEACHER, STUDENT = "t2001", "s20240101"


async def written(database) -> list[int]:
    async with database.read() as session:
        return [await session.scalar(select(func.count()).select_from(model))
                for model in (Application, Task, FlowRecord, OutboxMessage)]


def offered(centres: list[dict]) -> set[str]:
    return {m["code"] for c in centres for m in c["matters"]}


async def test_a_teacher_and_a_student_are_offered_different_matters(api):
    teacher = offered((await api.get("/centers", TEACHER))["items"])
    student = offered((await api.get("/centers", STUDENT))["items"])
    assert {"staff_leave", "business_trip", "seal_usage"} <= teacher
    assert not {"student_leave", "enrollment_certificate"} & teacher
    assert {"student_leave", "enrollment_certificate"} <= student
    assert not {"staff_leave", "business_trip", "seal_usage"} & student
    # A matter without an applicants rule is for everyone.
    assert {"venue_booking", "equipment_repair", "network_account"} <= teacher & student


async def test_a_centre_with_nothing_for_the_person_is_not_listed(api):
    student = {c["code"] for c in (await api.get("/centers", STUDENT))["items"]}
    teacher = {c["code"] for c in (await api.get("/centers", TEACHER))["items"]}
    assert "rsfw" in teacher and "rsfw" not in student  # 人事服务中心: staff matters only


async def test_search_finds_only_the_leave_the_person_may_apply_for(api):
    for who, expected, other in [(TEACHER, "staff_leave", "student_leave"), (STUDENT, "student_leave", "staff_leave")]:
        found = (await api.get(f"/matters?q={quote('我要请假')}", who))["items"]
        assert [m["code"] for m in found if m["score"] == found[0]["score"]] == [expected], found[:3]
        assert other not in {m["code"] for m in found}


async def test_a_student_cannot_submit_the_staff_leave_and_nothing_is_written(api, database):
    before = await written(database)
    status, body = await api.call("POST", "/applications", STUDENT, json=submission("staff_leave", staff_leave()))
    assert status == 403 and body["error"]["code"] == "not_an_applicant"
    assert "仅限教职工" in body["error"]["message"]
    assert await written(database) == before
    # The same answers from a teacher go through: the refusal is about who, not what.
    await api.post("/applications", TEACHER, json=submission("staff_leave", staff_leave()), expect=201)


async def test_a_matter_not_for_the_person_is_refused_to_read_and_to_validate(api):
    status, body = await api.call("GET", "/matters/staff_leave", STUDENT)
    assert status == 403 and body["error"]["code"] == "not_an_applicant"
    status, body = await api.call("POST", "/matters/staff_leave/validate", STUDENT,
                                  json={"form": {"days": 1}, "partial": True})
    assert status == 403 and body["error"]["code"] == "not_an_applicant"
    status, body = await api.call("GET", "/matters/student_leave", TEACHER)
    assert status == 403 and "仅限学生" in body["error"]["message"]
    assert (await api.get("/matters/student_leave", STUDENT))["code"] == "student_leave"


async def test_the_hall_offers_a_student_only_their_matters(hall):
    browser = await hall.browser(STUDENT)
    assert by_testid(browser.html, "matter-student_leave") and not by_testid(browser.html, "matter-staff_leave")
    await browser.get("/?q=" + quote("我要请假"))
    results = text_of(browser.html, "search-results")
    assert "学生请假" in results and "教职工" not in results


async def test_the_hall_refuses_a_student_the_staff_leave_page_and_its_submission(hall, database):
    browser = await hall.browser(STUDENT)
    await browser.get("/matters/staff_leave")
    assert browser.status == 403 and "仅限教职工" in browser.html
    await browser.get("/")  # a page with a CSRF token, as a forged or stale form would carry
    before = await written(database)
    posted = [(f"form.{key}", str(value)) for key, value in staff_leave().items()]
    await browser.post("/matters/staff_leave", posted)
    assert browser.status == 403 and "仅限教职工" in browser.html
    assert await written(database) == before
