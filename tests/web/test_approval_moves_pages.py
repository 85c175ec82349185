"""The approval moves in the browser: the applicant 撤回 from the progress page and resubmits;
an approver 转办 through the org picker, and the new holder finds it in their 待办."""
from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.support.hall_pages import open_task, submit_seal_request


def test_the_applicant_withdraws_from_the_progress_page_and_can_edit_again(hall):
    applicant = hall.login("t2001")
    number = submit_seal_request(applicant, leader="t0002", purpose="撤回测试用印")
    expect(applicant.get_by_test_id("withdraw")).to_be_visible()
    applicant.get_by_test_id("withdraw").click()
    expect(applicant.get_by_test_id("notice")).to_contain_text("已撤回")
    expect(applicant.get_by_test_id("application-status")).to_have_text("已退回")
    expect(applicant.locator("[data-testid=record][data-action=withdraw]")).to_have_count(1)
    hall.shot(applicant, "01-withdrawn")
    applicant.get_by_test_id("edit-resubmit").click()
    expect(applicant).to_have_url(re.compile(r"/applications/\d+/edit"))
    assert not hall.dialogs and number.startswith("SW")


def test_an_approver_transfers_through_the_org_picker(hall):
    applicant = hall.login("t2001")
    number = submit_seal_request(applicant, leader="t0002", purpose="转办测试用印")
    leader = hall.login("t0002")
    open_task(leader, number)
    leader.get_by_test_id("add-signers-open").click()
    picker = leader.get_by_test_id("org-picker")
    picker.get_by_test_id("org-search").fill("李明")
    picker.get_by_test_id("org-search-submit").click()
    picker.get_by_test_id("org-search-results").get_by_test_id("pick-t1204").check()
    leader.get_by_test_id("opinion").fill("请李明办理")
    leader.get_by_test_id("transfer").click()
    expect(leader.get_by_test_id("notice")).to_contain_text("已转办")
    expect(leader.get_by_test_id("task-status")).to_have_text("转办")
    hall.shot(leader, "01-transferred")
    li = hall.login("t1204")
    open_task(li, number)
    expect(li.get_by_test_id("approve")).to_be_visible()
    li.get_by_test_id("approve").click()
    expect(li.get_by_test_id("notice")).to_contain_text("已同意")
    assert not hall.dialogs
