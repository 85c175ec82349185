"""Text no database keeps (a NUL) typed into the hall's forms is refused like any other bad
answer — on PostgreSQL it would otherwise fail the statement (500)."""
from __future__ import annotations

from tests.support.backend_api import pending_task
from tests.support.forms import SEAL

NUL = "\x00"


async def test_an_opinion_or_a_signer_with_a_nul_is_refused_and_the_task_stays_pending(hall):
    app = await hall.api.post("/applications", "t2001", json=SEAL(), expect=201)
    task = await pending_task(hall.api, "t0002", app["number"])
    browser = await hall.browser("t0002")
    for fields in ([("action", "return"), ("opinion", f"不行{NUL}")],
                   [("action", "add_signers"), ("opinion", ""), ("users", f"t1203{NUL}")]):
        await browser.get(f"/tasks/{task['id']}")
        await browser.post(f"/tasks/{task['id']}", fields)
        assert browser.status == 400, browser.html[:300]
    assert (await pending_task(hall.api, "t0002", app["number"]))["status"] == "pending"


async def test_a_form_answer_with_a_nul_is_refused(hall):
    browser = await hall.browser("t2001")
    await browser.get("/matters/seal_usage")
    await browser.post("/matters/seal_usage", [("form.document_name", f"合同{NUL}"), ("form.seal_type", "学校公章")])
    assert browser.status in (400, 422), browser.html[:300]
    assert "无法识别" in browser.html
