"""Attachments on the hall's pages: files sent with the form (the page without its script),
the script's upload endpoint, a refused form keeping what was uploaded, and the links on the
application's page and the approver's task page (opened with the session, by those allowed)."""
from __future__ import annotations

import re

from tests.support.backend_api import pending_task
from tests.support.files import PDF, PNG, PROGRAM, upload
from tests.support.forms import staff_leave
from tests.support.pages import by_testid, text_of

APPLICANT, HEAD, OTHER = "t2001", "t2101", "t1202"


def fields(form):
    return [(f"form.{key}", str(value)) for key, value in form.items()]


def sick_leave(**override):
    return fields(staff_leave(leave_type="病假", **override))


async def submitted_id(browser) -> int:
    assert browser.status == 200 and "/progress" in browser.url, text_of(browser.html, "form-error")
    return int(re.search(r"/applications/(\d+)/progress", browser.url).group(1))


async def opened(browser, path: str):
    async with browser.session.get(browser.base_url + path) as response:
        return response.status, await response.read(), response.headers


async def test_files_sent_with_the_form_are_attached_and_linked_for_the_applicant_and_the_approver(hall):
    browser = await hall.browser(APPLICANT)
    await browser.get("/matters/staff_leave")
    assert 'enctype="multipart/form-data"' in browser.html and "/static/uploader.js" in browser.html
    await browser.post("/matters/staff_leave", sick_leave(),
                       files=[("upload.proof", "诊断证明.pdf", PDF), ("upload.proof", "病历.png", PNG)])
    application_id = await submitted_id(browser)
    detail = await hall.api.get(f"/applications/{application_id}", APPLICANT)
    assert [a["name"] for a in detail["attachments"]] == ["诊断证明.pdf", "病历.png"]
    links = by_testid(browser.html, "attachments-proof")
    assert links and "诊断证明.pdf" in links[0]["text"] and "病历.png" in links[0]["text"]
    first = detail["attachments"][0]["id"]
    assert (await opened(browser, f"/files/{first}"))[:2] == (200, PDF)

    approver = await hall.browser(HEAD)
    task = await pending_task(hall.api, HEAD, detail["number"])
    await approver.get(f"/tasks/{task['id']}")
    assert by_testid(approver.html, f"attachment-{first}")[0]["attrs"]["href"] == f"/files/{first}"
    status, body, headers = await opened(approver, f"/files/{first}")
    assert (status, body, headers["Content-Type"]) == (200, PDF, "application/pdf")
    stranger = await hall.browser(OTHER)
    assert (await opened(stranger, f"/files/{first}"))[0] == 404


async def test_a_refused_form_keeps_the_uploaded_files_for_the_next_try(hall):
    browser = await hall.browser(APPLICANT)
    await browser.get("/matters/staff_leave")
    await browser.post("/matters/staff_leave", sick_leave(days=""), files=[("upload.proof", "诊断证明.pdf", PDF)])
    assert browser.status == 400 and text_of(browser.html, "error-days")
    kept = by_testid(browser.html, "input-proof")[0]["attrs"]["value"]
    assert re.fullmatch(r"\d+", kept) and by_testid(browser.html, f"uploaded-{kept}")
    await browser.post("/matters/staff_leave", sick_leave(days="1", proof=kept))
    application_id = await submitted_id(browser)
    detail = await hall.api.get(f"/applications/{application_id}", APPLICANT)
    assert [a["id"] for a in detail["attachments"]] == [int(kept)]


async def test_a_wrong_kind_of_file_is_shown_at_its_field_and_nothing_is_submitted(hall):
    browser = await hall.browser(APPLICANT)
    await browser.get("/matters/staff_leave")
    await browser.post("/matters/staff_leave", sick_leave(), files=[("upload.proof", "证明.pdf", PROGRAM)])
    assert browser.status == 400 and "类型不支持" in text_of(browser.html, "error-proof")
    assert (await hall.api.get("/applications", APPLICANT))["items"] == []


async def test_someone_elses_file_id_in_the_form_is_refused_at_the_field(hall):
    theirs = await upload(hall.api, OTHER, ("别人的.pdf", PDF))
    browser = await hall.browser(APPLICANT)
    await browser.get("/matters/staff_leave")
    await browser.post("/matters/staff_leave", sick_leave(proof=str(theirs[0]["id"])))
    assert browser.status == 400 and "没有找到附件" in text_of(browser.html, "error-proof")
    assert "别人的.pdf" not in browser.html  # their file's name is not shown back
    assert (await hall.api.get("/applications", APPLICANT))["items"] == []


async def test_the_scripts_upload_needs_the_pages_csrf_token(hall):
    browser = await hall.browser(APPLICANT)
    await browser.get("/matters/staff_leave")
    form = [("files", "诊断证明.pdf", PDF)]
    await browser.post("/web/files", [], csrf=None, files=form)
    assert browser.status == 403
    await browser.post("/web/files", [], csrf=None, files=form, headers={"X-CSRF-Token": browser.csrf})
    assert browser.status == 201 and '"name": "诊断证明.pdf"' in browser.html.replace('":"', '": "')


async def test_the_resubmit_form_shows_the_files_and_takes_more_and_fewer(hall):
    browser = await hall.browser(APPLICANT)
    await browser.get("/matters/staff_leave")
    await browser.post("/matters/staff_leave", sick_leave(),
                       files=[("upload.proof", "诊断证明.pdf", PDF), ("upload.proof", "旧病历.png", PNG)])
    application_id = await submitted_id(browser)
    detail = await hall.api.get(f"/applications/{application_id}", APPLICANT)
    task = await pending_task(hall.api, HEAD, detail["number"])
    await hall.api.post(f"/tasks/{task['id']}/return", HEAD, json={"opinion": "请补充病历"})
    await browser.get(f"/applications/{application_id}/edit")
    first, dropped = [a["id"] for a in detail["attachments"]]
    assert by_testid(browser.html, "input-proof")[0]["attrs"]["value"] == f"{first},{dropped}"
    await browser.post(f"/applications/{application_id}/edit", sick_leave(proof=str(first)),
                       files=[("upload.proof", "病历.png", PNG)])
    assert browser.status == 200 and "/progress" in browser.url, text_of(browser.html, "form-error")
    detail = await hall.api.get(f"/applications/{application_id}", APPLICANT)
    assert [a["name"] for a in detail["attachments"]] == ["诊断证明.pdf", "病历.png"]
    links = text_of(browser.html, "attachments-proof")  # the progress page: the kept file and the new one
    assert "诊断证明.pdf" in links and "病历.png" in links and "旧病历.png" not in links
    assert (await opened(browser, f"/files/{dropped}"))[:2] == (200, PNG)  # an unattached upload, still its owner's

    approver = await hall.browser(HEAD)
    await approver.get(f"/tasks/{(await pending_task(hall.api, HEAD, detail['number']))['id']}")
    assert by_testid(approver.html, f"attachment-{first}") and not by_testid(approver.html, f"attachment-{dropped}")
    assert "旧病历.png" not in approver.html
    assert (await opened(approver, f"/files/{dropped}"))[0] == 404


async def test_a_file_id_no_column_can_hold_is_refused_at_the_field(hall):
    browser = await hall.browser(APPLICANT)
    await browser.get("/matters/staff_leave")
    await browser.post("/matters/staff_leave", sick_leave(proof="99999999999"))  # past PostgreSQL's int4
    assert browser.status == 400 and "没有找到附件" in text_of(browser.html, "error-proof")
    assert (await hall.api.get("/applications", APPLICANT))["items"] == []
