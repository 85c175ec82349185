"""The college as configured: its name roots the org tree, its help-desk phone is the one the
pages give — each from one setting (COLLEGE_NAME, HELPDESK_PHONE), never a literal."""
from __future__ import annotations

import dataclasses
from typing import Callable

from backend.config import Settings
from backend.db.database import Database
from backend.web.app import create_app

from tests.support.backend_api import Api
from tests.support.forms import submission
from tests.support.matters import one_node_matter
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


async def test_a_matter_nobody_can_approve_sends_people_to_the_configured_help_desk(
        aiohttp_client: Callable, settings: Settings, database: Database):
    # Only the help desk can mend a node nobody holds the role for; the workflow does not
    # know its number, the web layer adds the configured one.
    college = dataclasses.replace(settings, helpdesk_phone="12345678")
    api = Api(await aiohttp_client(create_app(college)), settings.database_url)
    await one_node_matter(database, "test_nobody", "无人审核测试", {
        "key": "desk", "name": "用印审核", "approvers": {"rule": "role", "role": "印章管理员", "department": "jwc"}})
    status, body = await api.call("POST", "/applications", "t2001", json=submission("test_nobody", {"note": "x"}))
    assert (status, body["error"]["code"]) == (400, "no_approver")
    assert body["error"]["message"] == "「用印审核」没有可用的审核人,请联系管理员(技术咨询电话 12345678)"
