"""我的申请 pages: 终止流程 after a confirm, the 进度 SVG, and user text that stays text."""
from tests.support.forms import SEAL, seal_usage
from tests.support.pages import by_testid, text_of

XSS = '<script>alert("xss")</script><img src=x onerror=alert(1)>'


async def submitted(hall, **form):
    return await hall.api.post("/applications", "t2001", json=SEAL(**form), expect=201)


async def task_of(hall, username, number):
    tasks = (await hall.api.get("/tasks?status=pending", username))["items"]
    return next(t for t in tasks if t["number"] == number)


async def status_of(hall, application):
    return (await hall.api.get(f"/applications/{application['id']}", "t2001"))["status"]


async def test_terminating_two_applications_at_once_after_a_confirm(hall):
    first, second, kept = await submitted(hall), await submitted(hall), await submitted(hall)
    browser = await hall.browser("t2001")
    await browser.get("/applications")
    assert len(by_testid(browser.html, "application-row")) == 3
    ids = [("ids", str(first["id"])), ("ids", str(second["id"]))]
    await browser.post("/applications/terminate", ids)
    assert browser.status == 200 and by_testid(browser.html, "terminate-confirm")
    assert {r["attrs"]["data-id"] for r in by_testid(browser.html, "confirm-row")} == {str(first["id"]), str(second["id"])}
    assert [await status_of(hall, a) for a in (first, second, kept)] == ["running"] * 3  # nothing yet
    await browser.post("/applications/terminate", ids + [("confirmed", "1"), ("reason", "不再需要用印")])
    assert browser.status == 200 and text_of(browser.html, "notice") == "已终止所选申请。"
    assert [await status_of(hall, a) for a in (first, second, kept)] == ["terminated", "terminated", "running"]
    rows = {r["attrs"]["data-number"]: r for r in by_testid(browser.html, "application-row")}
    assert rows[first["number"]]["attrs"]["data-status"] == "terminated"
    assert not by_testid(browser.html, f"select-{first['id']}") and by_testid(browser.html, f"select-{kept['id']}")
    records = (await hall.api.get(f"/applications/{first['id']}", "t2001"))["records"]
    assert (records[-1]["action"], records[-1]["opinion"]) == ("terminate", "不再需要用印")


async def test_terminating_refuses_nothing_ticked_and_other_peoples_applications(hall):
    theirs = await submitted(hall)
    browser = await hall.browser("t2101")
    await browser.get("/applications")
    await browser.post("/applications/terminate", [])
    assert browser.status == 400 and text_of(browser.html, "error") == "请先勾选要终止的申请"
    await browser.get("/applications")
    await browser.post("/applications/terminate", [("ids", str(theirs["id"])), ("confirmed", "1")])
    assert browser.status in (403, 404) and await status_of(hall, theirs) == "running"


async def test_terminating_refuses_malformed_and_too_many_ids_before_reading_any(hall):
    mine = await submitted(hall)
    browser = await hall.browser("t2001")
    await browser.get("/applications")
    await browser.post("/applications/terminate", [("ids", "abc"), ("confirmed", "1")])
    assert browser.status == 400 and text_of(browser.html, "error") == "所选申请无效,请刷新页面后重试"
    await browser.get("/applications")
    too_many = [("ids", str(mine["id"] + i)) for i in range(101)]
    await browser.post("/applications/terminate", too_many)
    assert browser.status == 400 and text_of(browser.html, "error") == "一次最多终止 100 个申请"
    assert await status_of(hall, mine) == "running"


def states(html):
    return [(g["attrs"]["data-key"], g["attrs"]["data-state"]) for g in by_testid(html, "flow-node")]


async def test_the_progress_diagram_shows_done_current_and_waiting_nodes(hall):
    app = await submitted(hall)
    browser = await hall.browser("t2001")
    await browser.get(f"/applications/{app['id']}/progress")
    assert by_testid(browser.html, "flow-diagram")[0]["tag"] == "svg"
    assert states(browser.html) == [("leader", "current"), ("seal_keeper", "waiting")]
    current = by_testid(browser.html, "flow-node")[0]["text"]
    assert "分管校领导审批" in current and "办理中" in current and "当前处理人:" in current
    assert by_testid(browser.html, "flow-end")[0]["attrs"]["data-state"] == "waiting"
    await hall.api.post(f"/tasks/{(await task_of(hall, 't0002', app['number']))['id']}/approve", "t0002",
                        json={"opinion": "同意"})
    await browser.get(f"/applications/{app['id']}/progress")
    assert states(browser.html) == [("leader", "done"), ("seal_keeper", "current")]
    assert "刘静" in by_testid(browser.html, "flow-node")[1]["text"]
    records = [(r["attrs"]["data-action"], r["text"]) for r in by_testid(browser.html, "record")]
    assert [a for a, _ in records] == ["submit", "approve"] and "分管校领导审批" in records[1][1]
    await hall.api.post(f"/tasks/{(await task_of(hall, 't1002', app['number']))['id']}/approve", "t1002", json={})
    await browser.get(f"/applications/{app['id']}/progress")
    assert states(browser.html) == [("leader", "done"), ("seal_keeper", "done")]
    assert by_testid(browser.html, "flow-end")[0]["attrs"]["data-state"] == "done"
    assert text_of(browser.html, "application-status") == "已通过"


async def test_a_returned_application_shows_where_it_stopped(hall):
    app = await submitted(hall)
    await hall.api.post(f"/tasks/{(await task_of(hall, 't0002', app['number']))['id']}/return", "t0002",
                        json={"opinion": "请补充"})
    browser = await hall.browser("t2001")
    await browser.get(f"/applications/{app['id']}/progress")
    assert states(browser.html) == [("leader", "returned"), ("seal_keeper", "waiting")]
    assert by_testid(browser.html, "edit-resubmit")


async def test_an_attackers_text_is_shown_as_text_everywhere(hall):
    browser = await hall.browser("t2001")
    await browser.get("/matters/seal_usage")
    fields = [(f"form.{k}", str(v)) for k, v in seal_usage(document_name="合同" + XSS[:80], purpose=XSS).items()]
    await browser.post("/matters/seal_usage", fields + [("approvers.leader", "t0002")])
    assert browser.status == 200
    app = (await hall.api.get("/applications", "t2001"))["items"][0]
    assert XSS in (await hall.api.get(f"/applications/{app['id']}", "t2001"))["form"]["purpose"]
    task = await task_of(hall, "t0002", app["number"])
    approver = await hall.browser("t0002")
    await approver.get(f"/tasks/{task['id']}")
    await approver.post(f"/tasks/{task['id']}", [("action", "return"), ("opinion", XSS)])
    pages = [approver]
    for path in (f"/applications/{app['id']}/progress", f"/applications/{app['id']}/edit"):
        page = await hall.browser("t2001")
        await page.get(path)
        pages.append(page)
    for page in pages:
        assert page.status == 200
        assert "<script>alert" not in page.html and "<img src=x" not in page.html
        assert "&lt;script&gt;alert(&#34;xss&#34;)&lt;/script&gt;" in page.html
    assert text_of(pages[1].html, "value-purpose") == XSS  # shown as the very text that was typed
    assert XSS in text_of(pages[1].html, "flow-records")
    # A refused form echoes the typed text back escaped too.
    await browser.get("/matters/seal_usage")
    await browser.post("/matters/seal_usage", [("form.document_name", XSS), ("form.copies", "0")])
    assert browser.status == 400 and "<script>alert" not in browser.html
    assert by_testid(browser.html, "input-document_name")[0]["attrs"]["value"] == XSS
