"""A person field in the browser: 工作交接人 of 请假申请(教职工) is chosen in the org tree or by a
name search (the 加签 picker's), shown by name and department, and the application's form
data holds that person's username."""
from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.support.dates import days_ahead


def fill_leave(page: Page) -> None:
    page.goto("/matters/staff_leave")
    expect(page.get_by_test_id("matter-name")).to_have_text("请假申请(教职工)")
    page.get_by_test_id("input-leave_type").select_option("事假")
    page.get_by_test_id("input-start_time").fill(days_ahead(4).strftime("%Y-%m-%dT08:30"))
    page.get_by_test_id("input-end_time").fill(days_ahead(4).strftime("%Y-%m-%dT17:30"))
    page.get_by_test_id("input-days").fill("1")
    page.get_by_test_id("input-reason").fill("家中有事需要处理一天")


def submitted_handover(page: Page, stack, username: str) -> str:
    page.get_by_test_id("submit").click()
    expect(page).to_have_url(re.compile(r"/applications/\d+/progress"))
    application_id = re.search(r"/applications/(\d+)/progress", page.url).group(1)
    status, body = stack.api(username, "GET", f"/applications/{application_id}")
    assert status == 200, body
    return body["form"]["handover"]


def test_a_person_is_picked_from_the_org_tree(hall, stack):
    page = hall.login("t2001")
    fill_leave(page)
    picker = page.get_by_test_id("person-picker-handover")
    expect(page.get_by_test_id("input-handover")).to_be_hidden()  # the picker stands in for the box
    expect(picker.get_by_test_id("person-chosen-handover")).to_have_text("(未选择)")
    picker.get_by_test_id("person-org-root-handover").click()
    picker.get_by_test_id("dept-jwc").click()
    picker.get_by_test_id("choose-t1204").click()
    expect(picker.get_by_test_id("person-chosen-handover")).to_have_text("李明(教务处)")
    hall.shot(page, "01-picked-from-tree")
    assert submitted_handover(page, stack, "t2001") == "t1204"
    expect(page.get_by_test_id("value-handover")).to_contain_text("t1204")
    assert not hall.dialogs


def test_a_person_is_found_by_name_and_enter_searches_without_submitting(hall, stack):
    page = hall.login("t2001")
    fill_leave(page)
    picker = page.get_by_test_id("person-picker-handover")
    search = page.get_by_label("工作交接人")  # the field's label names the search box
    expect(search).to_have_attribute("data-testid", "person-search-handover")
    search.fill("王丽华")
    search.press("Enter")
    expect(page).to_have_url(re.compile(r"/matters/staff_leave$"))
    picker.get_by_test_id("person-results-handover").get_by_test_id("choose-t1203").click()
    expect(picker.get_by_test_id("person-chosen-handover")).to_have_text("王丽华(教务处)")
    hall.shot(page, "01-picked-by-search")
    assert submitted_handover(page, stack, "t2001") == "t1203"
    assert not hall.dialogs


def test_a_refused_form_shows_the_kept_person_by_name_and_can_be_cleared(hall, stack):
    page = hall.login("t2001")
    fill_leave(page)
    page.get_by_test_id("input-days").fill("")  # refused: 请假天数 is required
    picker = page.get_by_test_id("person-picker-handover")
    picker.get_by_test_id("person-search-handover").fill("李明")
    picker.get_by_test_id("person-search-submit-handover").click()
    picker.get_by_test_id("person-results-handover").get_by_test_id("choose-t1204").click()
    page.get_by_test_id("submit").click()
    expect(page.get_by_test_id("error-days")).to_be_visible()
    picker = page.get_by_test_id("person-picker-handover")
    expect(picker.get_by_test_id("person-chosen-handover")).to_have_text("李明(教务处)")
    picker.get_by_test_id("person-clear-handover").click()
    expect(picker.get_by_test_id("person-chosen-handover")).to_have_text("(未选择)")
    expect(page.get_by_test_id("input-handover")).to_have_value("")
    assert not hall.dialogs


def test_several_people_are_copied_from_the_submit_form(hall, stack):
    page = hall.login("t2001")
    fill_leave(page)
    picker = page.get_by_test_id("person-picker-cc")
    expect(page.get_by_test_id("input-cc")).to_be_hidden()
    for name, username in (("李明", "t1204"), ("王丽华", "t1203")):
        picker.get_by_test_id("person-search-cc").fill(name)
        picker.get_by_test_id("person-search-cc").press("Enter")
        picker.get_by_test_id("person-results-cc").get_by_test_id(f"choose-{username}").click()
    expect(picker.get_by_test_id("person-chosen-cc")).to_have_text("李明(教务处)、王丽华(教务处)")
    expect(page.get_by_test_id("input-cc")).to_have_value("t1204,t1203")
    hall.shot(page, "01-cc-picked")
    page.get_by_test_id("submit").click()
    expect(page).to_have_url(re.compile(r"/applications/\d+/progress"))
    application_id = int(re.search(r"/applications/(\d+)/progress", page.url).group(1))
    for username in ("t1204", "t1203"):
        status, body = stack.api(username, "GET", "/applications?cc=1")
        assert status == 200 and application_id in [a["id"] for a in body["items"]], body
    assert not hall.dialogs
