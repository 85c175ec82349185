"""The page tests' fixture: the real app on a real port, JSON API and browsers side by side."""
from __future__ import annotations

from typing import Callable, Optional

import pytest

from backend.config import Settings
from backend.db.database import Database
from backend.web.app import create_app
from backend.workflow.engine import Workflow

from tests.support.backend_api import Api
from tests.support.clock import Clock
from tests.support.pages import Browser


@pytest.fixture
async def hall(aiohttp_client: Callable, settings: Settings, database: Database, clock: Clock):
    """The real app on a real port: ``hall.api`` speaks JSON, ``await hall.browser(user)``
    opens a logged-in browser with its own cookies (None: not logged in)."""
    client = await aiohttp_client(create_app(settings, Workflow(settings.timezone, now=clock)))
    browsers: list[Browser] = []

    class Hall:
        api = Api(client, settings.database_url)
        base_url = str(client.make_url("/"))

        async def browser(self, username: Optional[str] = None) -> Browser:
            browser = Browser(self.base_url)
            browsers.append(browser)
            if username:
                await browser.login(username)
                assert browser.status == 200 and browser.url.endswith("/"), (browser.status, browser.url)
            return browser

    yield Hall()
    for browser in browsers:
        await browser.close()
