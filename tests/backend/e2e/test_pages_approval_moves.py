"""The approval moves from the hall's pages: 转办 / 委派 / 退回到环节 on the task page; 撤回, 催办 and
备注 on the progress page — with the refusals shown on the page and nothing changed."""
from tests.support.backend_api import pending_task
from tests.support.forms import staff_leave, submission
from tests.support.pages import by_testid, text_of

APPLICANT, HEAD, ATTENDANCE, LI = "t2001", "t2101", "t1402", "t1204"


async def leave(hall) -> tuple[dict, dict]:
    app = await hall.api.post("/applications", APPLICANT, json=submission("staff_leave", staff_leave()), expect=201)
    return app, await pending_task(hall.api, HEAD, app["number"])


async def test_transferring_from_the_task_page_to_one_person_picked(hall):
    app, task = await leave(hall)
    browser = await hall.browser(HEAD)
    await browser.get(f"/tasks/{task['id']}")
    assert by_testid(browser.html, "transfer") and by_testid(browser.html, "delegate")
    await browser.post(f"/tasks/{task['id']}", [("action", "transfer"), ("opinion", "请李明办理")])
    assert browser.status == 400 and "选择一位接收人" in text_of(browser.html, "error")
    await browser.post(f"/tasks/{task['id']}", [("action", "transfer"), ("users", LI), ("users", "t1203")])
    assert browser.status == 400 and "只能选一位" in text_of(browser.html, "error")
    await browser.post(f"/tasks/{task['id']}", [("action", "transfer"), ("users", LI), ("opinion", "请李明办理")])
    assert browser.status == 200 and text_of(browser.html, "notice").startswith("已转办")
    assert text_of(browser.html, "task-status") == "转办"
    assert (await pending_task(hall.api, LI, app["number"]))["kind"] == "approval"


async def test_delegating_from_the_task_page_waits_for_the_delegate(hall):
    app, task = await leave(hall)
    browser = await hall.browser(HEAD)
    await browser.post(f"/tasks/{task['id']}", [("action", "delegate"), ("users", LI), ("opinion", "请先看看")])
    assert browser.status == 200 and by_testid(browser.html, "waiting-signers")
    theirs = await pending_task(hall.api, LI, app["number"])
    delegate = await hall.browser(LI)
    await delegate.get(f"/tasks/{theirs['id']}")
    assert by_testid(delegate.html, "agree") and not by_testid(delegate.html, "transfer")
    await delegate.post(f"/tasks/{theirs['id']}", [("action", "agree"), ("opinion", "情况属实")])
    await browser.get(f"/tasks/{task['id']}")
    assert by_testid(browser.html, "approve")


async def test_returning_to_a_passed_node_from_the_task_page(hall):
    app, task = await leave(hall)
    await hall.api.post(f"/tasks/{task['id']}/approve", HEAD, json={})
    second = await pending_task(hall.api, ATTENDANCE, app["number"])
    browser = await hall.browser(ATTENDANCE)
    await browser.get(f"/tasks/{second['id']}")
    assert "部门负责人审批" in text_of(browser.html, "return-to-node")
    await browser.post(f"/tasks/{second['id']}", [("action", "return"), ("opinion", "请核实"), ("to_node", "dept_head")])
    assert browser.status == 200 and text_of(browser.html, "notice").startswith("已退回到所选环节")
    detail = await hall.api.get(f"/applications/{app['id']}", APPLICANT)
    assert (detail["status"], detail["current_node"]["key"]) == ("running", "dept_head")


async def test_the_applicant_reminds_comments_and_withdraws_on_the_progress_page(hall):
    app, task = await leave(hall)
    browser = await hall.browser(APPLICANT)
    page = f"/applications/{app['id']}/progress"
    await browser.get(page)
    assert by_testid(browser.html, "withdraw") and by_testid(browser.html, "remind")
    await browser.post(f"/applications/{app['id']}/remind", [])
    assert text_of(browser.html, "notice").startswith("已催办")
    await browser.post(f"/applications/{app['id']}/remind", [])
    assert browser.status == 409 and "4 小时内只能催办一次" in text_of(browser.html, "error")
    await browser.post(f"/applications/{app['id']}/comments", [("text", "原件明天送到")])
    assert text_of(browser.html, "notice") == "已添加备注。"
    assert [r["attrs"]["data-action"] for r in by_testid(browser.html, "record")] == ["submit", "remind", "comment"]
    await browser.post(f"/applications/{app['id']}/comments", [("text", " ")])
    assert browser.status == 400 and text_of(browser.html, "error").startswith("请填写备注内容")
    await browser.post(f"/applications/{app['id']}/withdraw", [])
    assert text_of(browser.html, "notice").startswith("已撤回") and by_testid(browser.html, "edit-resubmit")
    assert not by_testid(browser.html, "withdraw")


async def test_withdrawing_after_the_node_decided_is_refused_on_the_page(hall):
    app, task = await leave(hall)
    browser = await hall.browser(APPLICANT)
    await browser.get(f"/applications/{app['id']}/progress")
    await hall.api.post(f"/tasks/{task['id']}/return", HEAD, json={"opinion": "请补充"})
    await browser.post(f"/applications/{app['id']}/withdraw", [])
    assert browser.status == 409 and "不能执行该操作" in text_of(browser.html, "error")


async def test_an_approver_comments_from_the_task_page_but_cannot_withdraw(hall):
    app, task = await leave(hall)
    approver = await hall.browser(HEAD)
    await approver.get(f"/tasks/{task['id']}")
    assert by_testid(approver.html, "comment-form")
    await approver.post(f"/applications/{app['id']}/comments", [("text", "已电话确认")])
    assert text_of(approver.html, "notice") == "已添加备注。" and not by_testid(approver.html, "withdraw")
    await approver.post(f"/applications/{app['id']}/withdraw", [])
    assert approver.status == 403
    assert (await hall.api.get(f"/applications/{app['id']}", APPLICANT))["status"] == "running"


async def test_people_picked_while_approving_are_copied_and_find_it_under_cc(hall):
    app, task = await leave(hall)
    browser = await hall.browser(HEAD)
    await browser.post(f"/tasks/{task['id']}", [("action", "approve"), ("users", LI), ("opinion", "同意")])
    assert browser.status == 200 and text_of(browser.html, "notice").startswith("已同意")
    copied = await hall.browser(LI)
    await copied.get("/applications?cc=1")
    assert [r["attrs"]["data-number"] for r in by_testid(copied.html, "cc-row")] == [app["number"]]
    await copied.get("/applications")
    assert not by_testid(copied.html, "application-row")
    await copied.get(f"/applications/{app['id']}/progress")
    assert copied.status == 200 and "cc" in [r["attrs"]["data-action"] for r in by_testid(copied.html, "record")]
    assert not by_testid(copied.html, "withdraw")


async def test_after_signing_and_removing_a_signer_on_the_task_page(hall):
    app, task = await leave(hall)
    browser = await hall.browser(HEAD)
    await browser.post(f"/tasks/{task['id']}", [("action", "add_signers_after"), ("users", LI), ("users", "t1203")])
    assert browser.status == 200 and text_of(browser.html, "notice").startswith("已同意并后加签")
    assert by_testid(browser.html, f"remove-signer-{LI}")
    await browser.post(f"/tasks/{task['id']}", [("action", "remove_signers"), ("users", LI)])
    assert text_of(browser.html, "notice") == "已减签。" and not by_testid(browser.html, f"remove-signer-{LI}")
    assert (await hall.api.get("/tasks", LI))["items"] == []
