"""Browser tests: Playwright drives Debian's Chromium (/usr/bin/chromium, never a
downloaded browser) against the whole real stack (devtools/stack.py: backend with the
web pages + action server + Rasa with the webchat channel).

Screenshots of the main pages go to var/screenshots/ (git-ignored; WEB_SCREENSHOTS_DIR
overrides), one file per test and step.
"""
from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Iterator

import pytest

from devtools.stack import DEMO_PASSWORD, ROOT, Stack

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SCREENSHOTS = Path(os.environ.get("WEB_SCREENSHOTS_DIR", ROOT / "var" / "screenshots"))
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}

if not CHROMIUM.exists():
    reason = ("Debian's Chromium is not installed (/usr/bin/chromium missing): "
              "apt-get install -y chromium chromium-driver")
    if os.environ.get("REQUIRE_CHROMIUM"):
        raise RuntimeError(reason)
    pytest.skip(reason, allow_module_level=True)

from playwright.sync_api import Browser, Page, expect, sync_playwright  # noqa: E402

expect.set_options(timeout=30_000)  # a bot turn with a backend call can take seconds on 2 busy cores


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


class Hall:
    """Opens the web hall as a given user; records every JS dialog (none may appear)."""

    def __init__(self, stack: Stack, browser: Browser, test_name: str):
        self.base = f"http://127.0.0.1:{stack.ports['backend']}"
        self.browser, self.test_name = browser, re.sub(r"[^\w-]+", "_", test_name)
        self.dialogs: list[str] = []
        self.contexts = []

    def page(self, phone: bool = False) -> Page:
        context = self.browser.new_context(base_url=self.base, locale="zh-CN", **(PHONE if phone else {}))
        self.contexts.append(context)
        page = context.new_page()
        page.on("dialog", self._dialog)
        return page

    def login(self, username: str, phone: bool = False) -> Page:
        page = self.page(phone)
        page.goto("/login")
        page.get_by_test_id("login-username").fill(username)
        page.get_by_test_id("login-password").fill(DEMO_PASSWORD)
        page.get_by_test_id("login-submit").click()
        expect(page.get_by_test_id("current-user")).to_contain_text(username)
        return page

    def shot(self, page: Page, step: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{self.test_name}-{step}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    def _dialog(self, dialog) -> None:
        self.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    def close(self) -> None:
        for context in self.contexts:
            context.close()


@pytest.fixture
def hall(stack: Stack, browser: Browser, request: pytest.FixtureRequest) -> Iterator[Hall]:
    opened = Hall(stack, browser, request.node.name)
    try:
        yield opened
    finally:
        opened.close()
