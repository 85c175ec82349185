"""A whole approval in the browser: submit with 选择审核人, 加签 through the org tree and
the name search, the signers' opinions, both approvals, and the applicant's progress page."""
from __future__ import annotations

from playwright.sync_api import expect

from tests.support.hall_pages import open_task, submit_seal_request


def test_submit_add_signers_opinions_approve_and_the_applicant_sees_it_passed(hall):
    applicant = hall.login("t2001")
    hall.shot(applicant, "01-hall")
    number = submit_seal_request(applicant, leader="t0002")
    assert number.startswith("SW")
    expect(applicant.get_by_test_id("application-status")).to_have_text("审批中")
    hall.shot(applicant, "02-submitted-progress")

    # The chosen leader adds two signers: one from the tree (教务处 → 王丽华), one by name search.
    leader = hall.login("t0002")
    open_task(leader, number)
    leader.get_by_test_id("add-signers-open").click()
    picker = leader.get_by_test_id("org-picker")
    expect(picker.get_by_test_id("org-root")).to_have_text("浙江艺术职业学院")
    picker.get_by_test_id("dept-jwc").click()
    picker.locator("details[data-dept=jwc]").get_by_test_id("pick-t1203").check()
    picker.get_by_test_id("org-search").fill("李明")
    picker.get_by_test_id("org-search-submit").click()
    picker.get_by_test_id("org-search-results").get_by_test_id("pick-t1204").check()
    expect(picker.get_by_test_id("selected-signers")).to_have_text("王丽华、李明")
    hall.shot(leader, "03-org-picker")
    leader.get_by_test_id("add-signers").click()
    expect(leader.get_by_test_id("waiting-signers")).to_be_visible()

    for signer, opinion in (("t1203", "教务处无异议"), ("t1204", "同意用印")):
        page = hall.login(signer)
        open_task(page, number)
        page.get_by_test_id("opinion").fill(opinion)
        page.get_by_test_id("agree").click()
        expect(page.get_by_test_id("task-status")).to_contain_text("同意")

    open_task(leader, number)
    expect(leader.get_by_test_id("signer")).to_have_count(2)
    expect(leader.get_by_test_id("signers")).to_contain_text("教务处无异议")
    hall.shot(leader, "04-task-with-opinions")
    leader.get_by_test_id("opinion").fill("情况属实,同意")
    leader.get_by_test_id("approve").click()
    expect(leader.get_by_test_id("task-status")).to_contain_text("同意")

    keeper = hall.login("t1002")  # 印章管理员: the second node
    open_task(keeper, number)
    keeper.get_by_test_id("approve").click()
    expect(keeper.get_by_test_id("task-status")).to_contain_text("同意")

    applicant.goto("/applications")
    row = applicant.get_by_test_id("application-row").filter(has_text=number)
    expect(row.get_by_test_id("status")).to_have_text("已通过")
    hall.shot(applicant, "05-applications")
    row.get_by_test_id("progress-link").click()
    expect(applicant.get_by_test_id("application-status")).to_have_text("已通过")
    steps = applicant.get_by_test_id("flow-diagram").locator("g.step")
    expect(steps).to_have_count(4)  # 发起申请, 分管校领导审批, 印章管理员用印, 办结
    assert [steps.nth(i).get_attribute("data-state") for i in range(4)] == ["done"] * 4
    records = applicant.get_by_test_id("flow-records")
    for text in ("沈立群", "王丽华", "李明", "刘静", "情况属实,同意"):
        expect(records).to_contain_text(text)
    hall.shot(applicant, "06-progress-all-done")
    assert hall.dialogs == []
