"""The WeCom channel takes its settings from the Rasa process's settings (bot/settings.py), read once."""
from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest

from bot import settings
from bot.channels.wecom.channel import WeComInput
from devtools.wecom_simulator.config import dev_credentials


@pytest.fixture
def environment(monkeypatch):
    for name in ("WECOM_CORP_ID", "WECOM_AGENT_ID", "WECOM_SECRET", "WECOM_TOKEN", "WECOM_AES_KEY", "COLLEGE_TZ"):
        monkeypatch.delenv(name, raising=False)
    settings.current.cache_clear()
    yield monkeypatch
    settings.current.cache_clear()


def test_without_wecom_settings_the_channel_is_off_and_says_why(environment, caplog):
    channel = WeComInput.from_credentials(None)
    assert channel.config is None and channel.timezone == ZoneInfo("Asia/Shanghai")
    assert "WeCom channel is off" in caplog.text and "WECOM_CORP_ID" in caplog.text


def test_the_channel_gets_its_corp_and_the_colleges_time_zone_from_the_settings(environment):
    credentials = dev_credentials()
    for name, value in {**credentials, "COLLEGE_TZ": "Asia/Urumqi"}.items():
        environment.setenv(name, value)
    channel = WeComInput.from_credentials(None)
    assert channel.config.corp_id == credentials["WECOM_CORP_ID"] and channel.timezone == ZoneInfo("Asia/Urumqi")
    assert settings.current().wecom is channel.config  # the same settings, read once
