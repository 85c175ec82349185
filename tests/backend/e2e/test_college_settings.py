"""The college as configured: its name roots the org tree, its help-desk phone is the one the
pages give — each from one setting (COLLEGE_NAME, HELPDESK_PHONE), never a literal."""
from __future__ import annotations

import dataclasses
from typing import Callable

from backend.config import Settings
from backend.db.database import Database
from backend.web.app import create_app

from tests.support.backend_api import Api
from tests.support.pages import Browser


def test_the_college_name_and_help_desk_phone_come_from_the_environment():
    settings = Settings.from_env({"BACKEND_SECRET_KEY": "k" * 40, "COLLEGE_NAME": "某某学院", "HELPDESK_PHONE": "12345678"})
    assert (settings.college_name, settings.helpdesk_phone) == ("某某学院", "12345678")
    default = Settings.from_env({"BACKEND_SECRET_KEY": "k" * 40})
    assert (default.college_name, default.helpdesk_phone) == ("浙江艺术职业学院", "87150044")


async def test_the_org_tree_and_the_pages_show_the_configured_college(
        aiohttp_client: Callable, settings: Settings, database: Database):
    college = dataclasses.replace(settings, college_name="某某学院", helpdesk_phone="12345678")
    client = await aiohttp_client(create_app(college))
    tree = await Api(client, settings.database_url).get("/org/departments", "t2001")
    assert tree["name"] == "某某学院"
    browser = Browser(str(client.make_url("/")))
    try:
        await browser.login("t2001")
        await browser.get("/?q=量子力学")  # no matter found: the page says whom to call
        assert "12345678" in browser.html and "87150044" not in browser.html
    finally:
        await browser.close()
