"""The action server's settings: one value per environment variable, read once at start."""
import ast
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from actions.backend_client import BackendClient
from actions.server import wire
from actions.settings import BadSetting, Settings
from actions import wiring
from actions.wiring import process_services

ACTIONS = Path(__file__).resolve().parents[2] / "actions"


def test_each_setting_comes_from_its_variable():
    settings = Settings.from_environment({
        "BACKEND_URL": "http://10.0.0.5:8080/api/v1/", "BACKEND_SERVICE_TOKEN": "s" * 40,
        "BACKEND_TIMEOUT_SECONDS": "3.5", "HELPDESK_PHONE": "0571-87150044", "COLLEGE_NAME": "某某学院",
        "COLLEGE_TZ": "Asia/Urumqi"})
    assert settings == Settings(backend_url="http://10.0.0.5:8080/api/v1", backend_service_token="s" * 40,
                                backend_timeout_seconds=3.5, helpdesk_phone="0571-87150044",
                                college_name="某某学院", college_tz=ZoneInfo("Asia/Urumqi"))


def test_what_the_environment_leaves_out_has_the_colleges_defaults():
    settings = Settings.from_environment({"HELPDESK_PHONE": " ", "COLLEGE_TZ": ""})
    assert settings == Settings()
    assert (settings.helpdesk_phone, settings.college_name) == ("87150044", "浙江艺术职业学院")
    assert settings.college_tz == ZoneInfo("Asia/Shanghai")


@pytest.mark.parametrize("env", [{"BACKEND_TIMEOUT_SECONDS": "soon"}, {"BACKEND_TIMEOUT_SECONDS": "0"},
                                 {"COLLEGE_TZ": "Mars/Olympus"}])
def test_a_setting_the_server_cannot_use_stops_it_with_the_variables_name(env):
    with pytest.raises(BadSetting, match=next(iter(env))):
        Settings.from_environment(env)


async def test_the_server_wires_one_backend_client_made_from_the_settings(monkeypatch):
    monkeypatch.setattr(wiring, "_process", None)  # the process's services as they were, after the test
    services = wire({"BACKEND_URL": "http://10.0.0.5:8080/api/v1", "BACKEND_TIMEOUT_SECONDS": "3"})
    try:
        assert process_services() is services and isinstance(services.backend, BackendClient)
        assert services.backend.base_url == "http://10.0.0.5:8080/api/v1" and services.backend.timeout.total == 3
    finally:
        await services.backend.close()


def environment_reads(source: str) -> list[int]:
    """Lines that touch os.environ / os.getenv."""
    return [node.lineno for node in ast.walk(ast.parse(source))
            if isinstance(node, ast.Attribute) and node.attr in ("environ", "getenv")]


def test_only_the_server_reads_the_environment():
    readers = {path.name: lines for path in sorted(ACTIONS.glob("*.py"))
               if (lines := environment_reads(path.read_text(encoding="utf-8")))}
    assert set(readers) == {"server.py"}, readers
