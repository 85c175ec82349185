"""When the hall signs people in from inside WeCom: the app's WeCom settings and the hall's address."""
from __future__ import annotations

import pytest

from backend.config import ConfigError, Settings
from wecom_api import DEFAULT_AUTHORIZE_URL

BASE = {"BACKEND_SECRET_KEY": "k" * 40}
APP = {"WECOM_CORP_ID": "wwcollege", "WECOM_AGENT_ID": "1000002", "WECOM_SECRET": "app-secret"}
HALL = {"BACKEND_PUBLIC_URL": "https://hall.example.edu.cn/"}


def test_the_apps_settings_and_the_halls_address_turn_the_sign_in_on():
    settings = Settings.from_env({**BASE, **APP, **HALL, "WECOM_API_BASE": "http://127.0.0.1:8090/cgi-bin"})
    assert settings.wecom_sign_in and settings.public_url == "https://hall.example.edu.cn"
    assert settings.wecom.corp_id == "wwcollege" and settings.wecom.agent_id == 1000002
    assert settings.wecom.api_base == "http://127.0.0.1:8090/cgi-bin/"
    assert settings.wecom_authorize_url == DEFAULT_AUTHORIZE_URL  # WeCom's own unless told otherwise


@pytest.mark.parametrize("env", [{**BASE, **APP}, {**BASE, **HALL}, BASE])
def test_without_the_app_secret_or_the_halls_address_it_is_off(env):
    assert not Settings.from_env(env).wecom_sign_in


@pytest.mark.parametrize("wrong", [{"WECOM_AGENT_ID": "一百"}, {"WECOM_CORP_ID": ""},
                                   {"WECOM_AUTHORIZE_URL": "open.weixin.qq.com/connect/oauth2/authorize"}])
def test_a_wrong_setting_stops_the_backend_with_one_line(wrong):
    with pytest.raises(ConfigError):
        Settings.from_env({**BASE, **APP, **HALL, **wrong})
