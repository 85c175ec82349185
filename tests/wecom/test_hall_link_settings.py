"""The hall's public address (BACKEND_PUBLIC_URL) reaches the WeCom channel through the Rasa
process's settings, read once: what its 查看流程图 links point at."""
from __future__ import annotations

import pytest

from bot import settings
from bot.channels.wecom.channel import WeComInput
from bot.settings import BotSettings, SettingsError

HALL = "https://hall.example.edu.cn"


@pytest.fixture
def environment(monkeypatch):
    monkeypatch.delenv("BACKEND_PUBLIC_URL", raising=False)
    settings.current.cache_clear()
    yield monkeypatch
    settings.current.cache_clear()


def test_the_channel_gets_the_halls_address_from_the_settings(environment):
    environment.setenv("BACKEND_PUBLIC_URL", HALL + "/")
    assert WeComInput.from_credentials(None).hall_url == HALL


def test_without_the_halls_address_the_channel_sends_no_links(environment):
    assert WeComInput.from_credentials(None).hall_url is None


@pytest.mark.parametrize("bad", ["hall.example.edu.cn", 'https://x.example/"onclick="', "https://x .example"])
def test_an_address_that_is_not_a_plain_http_url_stops_the_server(bad):
    with pytest.raises(SettingsError):
        BotSettings.from_env({"BACKEND_PUBLIC_URL": bad})
