"""The Rasa process's settings, read from the environment in one place, once.

  RASA_TURNS_AT_ONCE  user turns doing their work at a time (default 2; bot/turn_queue.py)
  COLLEGE_TZ          the college's time zone (default Asia/Shanghai): times users see, e.g. on a
                      WeCom card closed by a decision
  WECOM_*             the WeCom channel (wecom_api/config.py); without them the channel is off
  BACKEND_PUBLIC_URL  the hall's address people open (the backend's setting of the same name), for
                      links in WeCom messages (查看流程图); unset, WeCom messages carry no links
  BACKEND_URL, BACKEND_SERVICE_TOKEN
                      the backend's API and service token (as in actions.env): a picture or file sent
                      in WeCom while a form asks for an attachment is uploaded there as the member;
                      unset, such files are declined with a pointer to the web form

``current()`` reads them the first time it is called and hands the same settings to every later
caller. bot/server.py calls it before Rasa starts, so a bad value stops the server with one line;
the channels, which Rasa builds itself from credentials.yml (no way to pass them arguments), call
it in ``from_credentials``. Nothing here is read at import time.
"""
from __future__ import annotations

import functools
import os
import re
from dataclasses import dataclass
from typing import Mapping, Optional
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from wecom_api import WeComConfig, WeComConfigError

DEFAULT_TURNS_AT_ONCE = 2
DEFAULT_TIMEZONE = "Asia/Shanghai"
HALL_URL = re.compile(r"^https?://[^\s\"'<>]+$")


class SettingsError(ValueError):
    """A setting has a value the server cannot run with."""


@dataclass(frozen=True)
class BotSettings:
    turns_at_once: int = DEFAULT_TURNS_AT_ONCE
    timezone: ZoneInfo = ZoneInfo(DEFAULT_TIMEZONE)
    wecom: Optional[WeComConfig] = None
    wecom_off_because: str = "WeCom is not configured"  # why ``wecom`` is None
    hall_url: Optional[str] = None
    backend: Optional[tuple[str, str]] = None  # (BACKEND_URL, BACKEND_SERVICE_TOKEN) for WeCom files

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> "BotSettings":
        try:
            wecom, off_because = WeComConfig.from_env(env), ""
        except WeComConfigError as error:
            wecom, off_because = None, str(error)
        return cls(turns_at_once=_turns_at_once(env), timezone=_timezone(env), wecom=wecom,
                   wecom_off_because=off_because, hall_url=_hall_url(env), backend=_backend(env))


def _turns_at_once(env: Mapping[str, str]) -> int:
    value = env.get("RASA_TURNS_AT_ONCE", str(DEFAULT_TURNS_AT_ONCE))
    if not value.isdigit() or int(value) < 1:
        raise SettingsError(f"RASA_TURNS_AT_ONCE must be a whole number ≥ 1, not {value!r}")
    return int(value)


def _hall_url(env: Mapping[str, str]) -> Optional[str]:
    value = env.get("BACKEND_PUBLIC_URL", "").strip().rstrip("/")
    if value and not HALL_URL.match(value):
        raise SettingsError(f"BACKEND_PUBLIC_URL must be an http(s) URL such as https://hall.example.edu.cn, not {value!r}")
    return value or None


def _backend(env: Mapping[str, str]) -> Optional[tuple[str, str]]:
    url, token = env.get("BACKEND_URL", "").strip().rstrip("/"), env.get("BACKEND_SERVICE_TOKEN", "").strip()
    if not url or not token:
        return None
    if not HALL_URL.match(url):
        raise SettingsError(f"BACKEND_URL must be an http(s) URL such as http://127.0.0.1:8080/api/v1, not {url!r}")
    return url, token


def _timezone(env: Mapping[str, str]) -> ZoneInfo:
    name = env.get("COLLEGE_TZ", "").strip() or DEFAULT_TIMEZONE
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise SettingsError(f"COLLEGE_TZ must name a time zone such as {DEFAULT_TIMEZONE}, not {name!r}") from None


@functools.lru_cache(maxsize=1)
def current() -> BotSettings:
    """This process's settings, read from the environment on the first call."""
    return BotSettings.from_env(os.environ)
