"""我的申请 in the browser: terminating two applications at once, and an attacker's form
text shown as text everywhere it is displayed."""
from __future__ import annotations

import re
from datetime import datetime, timedelta

from playwright.sync_api import expect

from tests.support.dates import COLLEGE_TZ as TZ


def submit_leave(stack, username: str, reason: str) -> dict:
    day = datetime.now(TZ) + timedelta(days=3)
    status, body = stack.api(username, "POST", "/applications", {
        "matter": "staff_leave", "form": {"leave_type": "事假", "start_time": day.strftime("%Y-%m-%d 08:30"),
                                          "end_time": day.strftime("%Y-%m-%d 17:30"), "days": 1, "reason": reason}})
    assert status == 201, body
    return body


def test_the_applicant_terminates_two_applications_at_once(hall, stack):
    first, second = (submit_leave(stack, "t2102", f"家中有事需要处理 {n}") for n in (1, 2))
    kept = submit_leave(stack, "t2102", "这一份不终止")
    page = hall.login("t2102")
    page.get_by_test_id("nav-applications").click()
    page.get_by_test_id(f"select-{first['id']}").check()
    page.get_by_test_id(f"select-{second['id']}").check()
    page.get_by_test_id("terminate").click()
    confirm = page.get_by_test_id("terminate-confirm")
    expect(confirm.get_by_test_id("confirm-row")).to_have_count(2)
    hall.shot(page, "01-terminate-confirm")
    page.get_by_test_id("terminate-reason").fill("计划有变")
    page.get_by_test_id("terminate-confirm-button").click()
    for application in (first, second):
        row = page.locator(f'[data-testid="application-row"][data-id="{application["id"]}"]')
        expect(row.get_by_test_id("status")).to_have_text("已终止")
    kept_row = page.locator(f'[data-testid="application-row"][data-id="{kept["id"]}"]')
    expect(kept_row.get_by_test_id("status")).to_have_text("审批中")
    hall.shot(page, "02-terminated")
    for application, status in ((first, "terminated"), (second, "terminated"), (kept, "running")):
        _, detail = stack.api("t2102", "GET", f"/applications/{application['id']}")
        assert detail["status"] == status
    assert hall.dialogs == []


XSS = '<script>alert("xss")</script><img src=x onerror="alert(1)">"><svg onload=alert(2)>'


def test_an_xss_payload_in_a_form_field_shows_as_text(hall, stack):
    page = hall.login("t2103")
    day = (datetime.now(TZ) + timedelta(days=4)).strftime("%Y-%m-%d")
    page.goto("/matters/staff_leave")
    page.get_by_test_id("input-leave_type").select_option("事假")
    page.get_by_test_id("input-start_time").fill(f"{day}T08:30")
    page.get_by_test_id("input-end_time").fill(f"{day}T17:30")
    page.get_by_test_id("input-days").fill("1")
    page.get_by_test_id("input-reason").fill(XSS)
    page.get_by_test_id("submit").click()
    expect(page).to_have_url(re.compile(r"/applications/\d+/progress"))
    application_id = re.search(r"/applications/(\d+)/", page.url).group(1)
    _, detail = stack.api("t2103", "GET", f"/applications/{application_id}")
    assert detail["form"]["reason"] == XSS  # stored as typed

    # The applicant's progress page and the department head's task page show it as text.
    head = hall.login("t2101")
    head.goto("/tasks?tab=todo")
    head.get_by_test_id("task-row").filter(has_text=detail["number"]).get_by_test_id("task-link").click()
    for viewer in (page, head):
        expect(viewer.get_by_test_id("value-reason")).to_have_text(XSS)
        assert viewer.get_by_test_id("form-data").locator("img, script, svg").count() == 0
    hall.shot(head, "02-xss-task-page")
    hall.shot(page, "01-xss-as-text")
    assert hall.dialogs == []
