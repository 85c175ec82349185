"""我的任务 pages: the lists, and 同意 / 退回 / 加签 / a signer's opinion through the task page."""
from tests.support.forms import SEAL, seal_usage
from tests.support.pages import by_testid, text_of


async def submitted(hall):
    return await hall.api.post("/applications", "t2001", json=SEAL(), expect=201)


async def task_of(hall, username, number, status="pending"):
    tasks = (await hall.api.get(f"/tasks?status={status}", username))["items"]
    return next(t for t in tasks if t["number"] == number)


async def test_the_todo_and_done_tabs_list_the_approvers_tasks(hall):
    app = await submitted(hall)
    browser = await hall.browser("t0002")
    await browser.get("/tasks")
    rows = by_testid(browser.html, "task-row")
    assert [r["attrs"]["data-number"] for r in rows] == [app["number"]]
    assert "公章使用申请" in rows[0]["text"] and "张伟" in rows[0]["text"]
    await browser.get("/tasks?tab=done")
    assert by_testid(browser.html, "empty") and not by_testid(browser.html, "task-row")


async def test_approving_on_the_task_page_moves_the_application_on(hall):
    app = await submitted(hall)
    task = await task_of(hall, "t0002", app["number"])
    browser = await hall.browser("t0002")
    await browser.get(f"/tasks/{task['id']}")
    assert text_of(browser.html, "value-document_name") == seal_usage()["document_name"]
    assert [r["attrs"]["data-action"] for r in by_testid(browser.html, "record")] == ["submit"]
    assert by_testid(browser.html, "approve") and by_testid(browser.html, "return")
    await browser.post(f"/tasks/{task['id']}", [("action", "approve"), ("opinion", "同意用印")])
    assert browser.status == 200 and text_of(browser.html, "notice").startswith("已同意")
    assert not by_testid(browser.html, "decision-form") and text_of(browser.html, "task-status") == "同意"
    detail = await hall.api.get(f"/applications/{app['id']}", "t2001")
    assert detail["current_node"]["key"] == "seal_keeper"
    assert (detail["records"][-1]["action"], detail["records"][-1]["opinion"]) == ("approve", "同意用印")
    await browser.get("/tasks?tab=done")
    assert [r["attrs"]["data-number"] for r in by_testid(browser.html, "task-row")] == [app["number"]]


async def test_a_decision_on_an_already_decided_task_is_refused_with_a_clear_message(hall):
    app = await submitted(hall)
    task = await task_of(hall, "t0002", app["number"])
    browser = await hall.browser("t0002")
    await browser.get(f"/tasks/{task['id']}")
    stale_token = browser.csrf
    await hall.api.post(f"/tasks/{task['id']}/approve", "t0002", json={})  # decided elsewhere meanwhile
    await browser.post(f"/tasks/{task['id']}", [("action", "return"), ("opinion", "请补充材料")], csrf=stale_token)
    assert browser.status == 409 and text_of(browser.html, "error") == "该任务已经办理过了,不能重复办理"
    assert (await hall.api.get(f"/applications/{app['id']}", "t2001"))["status"] == "running"


async def test_someone_elses_task_is_not_found(hall):
    app = await submitted(hall)
    task = await task_of(hall, "t0002", app["number"])
    browser = await hall.browser("t0001")
    await browser.get(f"/tasks/{task['id']}")
    assert browser.status == 404 and "没有找到您的任务" in text_of(browser.html, "error")
    await browser.post(f"/tasks/{task['id']}", [("action", "approve")])
    assert browser.status == 404
    assert (await task_of(hall, "t0002", app["number"]))["status"] == "pending"


async def test_returning_then_editing_and_resubmitting_starts_the_flow_again(hall):
    app = await submitted(hall)
    task = await task_of(hall, "t0002", app["number"])
    approver = await hall.browser("t0002")
    await approver.get(f"/tasks/{task['id']}")
    await approver.post(f"/tasks/{task['id']}", [("action", "return"), ("opinion", "份数有误,请改为3份")])
    assert approver.status == 200 and text_of(approver.html, "notice") == "已退回给申请人。"

    applicant = await hall.browser("t2001")
    await applicant.get("/applications")
    row = by_testid(applicant.html, "application-row")[0]
    assert row["attrs"]["data-status"] == "returned" and by_testid(applicant.html, f"edit-{app['id']}")
    await applicant.get(f"/applications/{app['id']}/edit")
    assert by_testid(applicant.html, "input-copies")[0]["attrs"]["value"] == "2"  # prefilled
    assert by_testid(applicant.html, "input-use_date")[0]["attrs"]["value"] == seal_usage()["use_date"]
    assert "份数有误" in text_of(applicant.html, "return-opinion")
    leader = [o for o in by_testid(applicant.html, "approver-leader")]
    assert 'value="t0002" selected' in applicant.html and leader
    posted = [(f"form.{k}", str(v)) for k, v in seal_usage(copies=3).items()] + [("approvers.leader", "t0002")]
    await applicant.post(f"/applications/{app['id']}/edit", [p for p in posted if p[0] != "form.purpose"])
    assert applicant.status == 400 and text_of(applicant.html, "error-purpose") == "「用印事由」为必填项"
    await applicant.post(f"/applications/{app['id']}/edit", posted)
    assert applicant.status == 200 and text_of(applicant.html, "notice").startswith("已重新提交")
    detail = await hall.api.get(f"/applications/{app['id']}", "t2001")
    assert (detail["status"], detail["round"], detail["form"]["copies"]) == ("running", 2, 3)
    await applicant.get(f"/applications/{app['id']}/edit")
    assert applicant.status == 409 and "只有已退回的申请" in text_of(applicant.html, "error")


async def test_adding_signers_through_the_picker_and_their_opinions(hall):
    app = await submitted(hall)
    task = await task_of(hall, "t0002", app["number"])
    approver = await hall.browser("t0002")
    await approver.get(f"/tasks/{task['id']}")
    picker = text_of(approver.html, "org-picker")
    assert "浙江艺术职业学院" in picker and "教务处" in picker and by_testid(approver.html, "dept-jwc")
    await approver.get("/web/org/users?department=jwc&limit=100")  # what the picker loads for 教务处
    assert "王丽华" in approver.html and "李明" in approver.html
    await approver.get("/web/org/users?q=王丽华")
    assert '"username":"t1203"' in approver.html
    await approver.get(f"/tasks/{task['id']}")
    await approver.post(f"/tasks/{task['id']}", [("action", "add_signers"), ("users", "t2001")])
    assert approver.status == 400 and text_of(approver.html, "error") == "不能加签给申请人本人"
    await approver.post(f"/tasks/{task['id']}", [("action", "add_signers"), ("users", "t1203"),
                                                 ("users", "t1204"), ("opinion", "请教务处把关")])
    assert approver.status == 200 and by_testid(approver.html, "waiting-signers")
    assert {s["attrs"]["data-username"] for s in by_testid(approver.html, "signer")} == {"t1203", "t1204"}

    for username, action, opinion in (("t1203", "agree", "情况属实"), ("t1204", "disagree", "材料不全")):
        signer = await hall.browser(username)
        signer_task = await task_of(hall, username, app["number"])
        await signer.get(f"/tasks/{signer_task['id']}")
        assert by_testid(signer.html, "agree") and by_testid(signer.html, "disagree")
        assert not by_testid(signer.html, "approve") and not by_testid(signer.html, "add-signers")
        await signer.post(f"/tasks/{signer_task['id']}", [("action", action), ("opinion", opinion)])
        assert signer.status == 200 and text_of(signer.html, "notice").startswith("已提交意见")

    await approver.get(f"/tasks/{task['id']}")
    signers = {s["attrs"]["data-username"]: s["text"] for s in by_testid(approver.html, "signer")}
    assert "同意,情况属实" in signers["t1203"] and "不同意,材料不全" in signers["t1204"]
    await approver.post(f"/tasks/{task['id']}", [("action", "approve")])
    assert approver.status == 200
    detail = await hall.api.get(f"/applications/{app['id']}", "t2001")
    assert detail["current_node"]["key"] == "seal_keeper"
    assert [r["action_label"] for r in detail["records"][1:]] == ["加签", "加签意见:同意", "加签意见:不同意", "同意"]


async def test_ticked_tasks_are_approved_one_by_one_and_one_decided_meanwhile_is_reported(hall):
    apps = [await submitted(hall) for _ in range(3)]
    tasks = [await task_of(hall, "t0002", app["number"]) for app in apps]
    browser = await hall.browser("t0002")
    await browser.get("/tasks")
    assert {r["attrs"]["value"] for r in by_testid(browser.html, "tick")} == {str(t["id"]) for t in tasks}
    await hall.api.post(f"/tasks/{tasks[1]['id']}/return", "t0002", json={"opinion": "请补充"})  # meanwhile
    await browser.post("/tasks/approve-ticked", [("task", str(tasks[0]["id"])), ("task", str(tasks[1]["id"])),
                                                 ("opinion", "同意,按规定办理")])
    assert browser.status == 200 and text_of(browser.html, "notice") == "已同意 1 项。"
    assert apps[1]["number"] in text_of(browser.html, "error") and "1 项未能同意" in text_of(browser.html, "error")
    first = await hall.api.get(f"/applications/{apps[0]['id']}", "t2001")
    assert (first["records"][-1]["action"], first["records"][-1]["opinion"]) == ("approve", "同意,按规定办理")
    assert (await hall.api.get(f"/applications/{apps[1]['id']}", "t2001"))["status"] == "returned"
    assert (await task_of(hall, "t0002", apps[2]["number"]))["status"] == "pending"  # not ticked: untouched
    assert [r["attrs"]["data-number"] for r in by_testid(browser.html, "task-row")] == [apps[2]["number"]]


async def test_ticking_nothing_or_someone_elses_task_approves_nothing(hall):
    app = await submitted(hall)
    task = await task_of(hall, "t0002", app["number"])
    browser = await hall.browser("t0002")
    await browser.get("/tasks")
    await browser.post("/tasks/approve-ticked", [("opinion", "同意")])
    assert browser.status == 400 and text_of(browser.html, "error") == "请先勾选要同意的任务"
    other = await hall.browser("t0001")
    await other.get("/tasks")
    await other.post("/tasks/approve-ticked", [("task", str(task["id"])), ("task", "99999999999"), ("task", "x")])
    assert other.status == 409 and "3 项未能同意" in text_of(other.html, "error")
    assert (await task_of(hall, "t0002", app["number"]))["status"] == "pending"
