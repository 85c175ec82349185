"""The web hall in a browser (Playwright), as the tests/web suites drive it: open a task from
我的待办, submit a seal request with 选择审核人."""
from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from .dates import tomorrow


def open_task(page: Page, number: str) -> None:
    page.goto("/tasks?tab=todo")
    page.get_by_test_id("task-row").filter(has_text=number).get_by_test_id("task-link").click()
    expect(page.get_by_test_id("application-number")).to_have_text(number)


def submit_seal_request(page: Page, leader: str, purpose: str = "与杭州剧院签订演出合作协议") -> str:
    page.goto("/matters/seal_usage")
    expect(page.get_by_test_id("matter-name")).to_have_text("公章使用申请")
    page.get_by_test_id("input-seal_type").select_option("学校公章")
    page.get_by_test_id("input-document_name").fill("2026年演出合作协议")
    page.get_by_test_id("input-copies").fill("2")
    page.get_by_test_id("input-use_date").fill(tomorrow())
    page.get_by_test_id("input-purpose").fill(purpose)
    # The document to be stamped, uploaded (uploader.js sends it at once and lists it).
    page.get_by_test_id("file-document").set_input_files([
        {"name": "合作协议.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.4\n% contract\n%%EOF\n"}])
    expect(page.get_by_test_id("uploads-document")).to_contain_text("合作协议.pdf")
    page.get_by_test_id("approver-leader").select_option(leader)
    page.get_by_test_id("submit").click()
    expect(page).to_have_url(re.compile(r"/applications/\d+/progress"))
    return page.get_by_test_id("application-number").inner_text().strip()
