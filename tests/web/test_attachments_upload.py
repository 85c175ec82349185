"""Uploading attachments on the hall's form in a browser: chosen files go up at once (progress,
then listed with a link and 移除), a refused kind is said at the field, and the application holds
the files that stayed listed."""
from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.support.dates import days_ahead

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
       b"\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82")


def fill_sick_leave(page: Page) -> None:
    page.goto("/matters/staff_leave")
    page.get_by_test_id("input-leave_type").select_option("病假")
    page.get_by_test_id("input-start_time").fill(days_ahead(4).strftime("%Y-%m-%dT08:30"))
    page.get_by_test_id("input-end_time").fill(days_ahead(4).strftime("%Y-%m-%dT17:30"))
    page.get_by_test_id("input-days").fill("1")
    page.get_by_test_id("input-reason").fill("发烧需要就医休息一天")


def test_files_are_uploaded_when_chosen_and_the_application_holds_those_kept(hall, stack):
    page = hall.login("t2001")
    fill_sick_leave(page)
    expect(page.get_by_test_id("limits-proof")).to_contain_text("PDF")
    page.get_by_test_id("file-proof").set_input_files([
        {"name": "诊断证明.pdf", "mimeType": "application/pdf", "buffer": PDF},
        {"name": "病历.png", "mimeType": "image/png", "buffer": PNG}])
    listed = page.get_by_test_id("uploads-proof")
    expect(listed).to_contain_text("诊断证明.pdf")
    expect(listed).to_contain_text("病历.png")
    expect(page.get_by_test_id("progress-proof")).to_be_hidden()  # done
    hall.shot(page, "01-uploaded")
    listed.get_by_role("button", name="移除").last.click()  # 病历.png is not wanted after all
    expect(listed).not_to_contain_text("病历.png")
    page.get_by_test_id("file-proof").set_input_files([{"name": "程序.exe", "mimeType": "application/octet-stream",
                                                       "buffer": b"MZ" + b"\x00" * 30}])
    expect(page.get_by_test_id("upload-error-proof")).to_contain_text("类型不支持")
    page.get_by_test_id("submit").click()
    expect(page).to_have_url(re.compile(r"/applications/\d+/progress"))
    application_id = re.search(r"/applications/(\d+)/progress", page.url).group(1)
    status, body = stack.api("t2001", "GET", f"/applications/{application_id}")
    assert status == 200, body
    assert [a["name"] for a in body["attachments"]] == ["诊断证明.pdf"]
    link = page.get_by_test_id(f"attachment-{body['attachments'][0]['id']}")
    expect(link).to_have_text("诊断证明.pdf")
    assert not hall.dialogs
