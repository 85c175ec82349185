"""bot/settings.py: the Rasa process's settings, read from the environment once."""
from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest

from bot import settings
from bot.settings import DEFAULT_TURNS_AT_ONCE, BotSettings, SettingsError
from devtools.wecom_simulator.config import dev_credentials


def test_without_settings_the_defaults_hold_and_wecom_is_off_saying_why():
    read = BotSettings.from_env({})
    assert read.turns_at_once == DEFAULT_TURNS_AT_ONCE and read.timezone == ZoneInfo("Asia/Shanghai")
    assert read.wecom is None and "WECOM_CORP_ID" in read.wecom_off_because


def test_each_setting_comes_from_its_variable():
    wecom = dev_credentials()
    read = BotSettings.from_env({"RASA_TURNS_AT_ONCE": "3", "COLLEGE_TZ": "Asia/Urumqi", **wecom})
    assert read.turns_at_once == 3 and read.timezone == ZoneInfo("Asia/Urumqi")
    assert read.wecom is not None and read.wecom.corp_id == wecom["WECOM_CORP_ID"] and not read.wecom_off_because


@pytest.mark.parametrize("name, value", [("RASA_TURNS_AT_ONCE", "0"), ("RASA_TURNS_AT_ONCE", "two"),
                                         ("COLLEGE_TZ", "Mars/Olympus"), ("COLLEGE_TZ", "../etc/passwd")])
def test_a_bad_value_is_refused_naming_its_variable(name, value):
    with pytest.raises(SettingsError, match=name):
        BotSettings.from_env({name: value})


def test_the_environment_is_read_once(monkeypatch):
    settings.current.cache_clear()
    try:
        monkeypatch.setenv("RASA_TURNS_AT_ONCE", "3")
        first = settings.current()
        monkeypatch.setenv("RASA_TURNS_AT_ONCE", "5")
        assert settings.current() is first and first.turns_at_once == 3
    finally:
        settings.current.cache_clear()
