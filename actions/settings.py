"""The action server's settings: read from the environment once, at start (actions/server.py).

Nothing in ``actions/`` reads ``os.environ`` itself; every module gets what it needs from
one ``Settings``, handed to the actions through ``actions.wiring``. Each value has one
environment variable, the same name the other processes use for the same thing
(``COLLEGE_TZ`` is the backend's too).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import tzinfo
from typing import Mapping
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_BACKEND_URL = "http://127.0.0.1:8080/api/v1"


class BadSetting(ValueError):
    """A setting the action server cannot start with."""


@dataclass(frozen=True)
class Settings:
    backend_url: str = DEFAULT_BACKEND_URL          # BACKEND_URL
    backend_service_token: str = ""                 # BACKEND_SERVICE_TOKEN
    backend_timeout_seconds: float = 8.0            # BACKEND_TIMEOUT_SECONDS
    helpdesk_phone: str = "87150044"                # HELPDESK_PHONE: the technical help desk users are sent to
    college_name: str = "浙江艺术职业学院"              # COLLEGE_NAME (for texts that name the college; none yet)
    college_tz: tzinfo = ZoneInfo("Asia/Shanghai")  # COLLEGE_TZ: the zone dates in forms are read in

    @classmethod
    def from_environment(cls, env: Mapping[str, str]) -> "Settings":
        """The settings ``env`` gives, the defaults for what it leaves out."""
        defaults = cls()
        return cls(
            backend_url=env.get("BACKEND_URL", defaults.backend_url).rstrip("/"),
            backend_service_token=env.get("BACKEND_SERVICE_TOKEN", defaults.backend_service_token),
            backend_timeout_seconds=_positive_number(env, "BACKEND_TIMEOUT_SECONDS", defaults.backend_timeout_seconds),
            helpdesk_phone=env.get("HELPDESK_PHONE", defaults.helpdesk_phone).strip() or defaults.helpdesk_phone,
            college_name=env.get("COLLEGE_NAME", defaults.college_name).strip() or defaults.college_name,
            college_tz=_zone(env.get("COLLEGE_TZ"), defaults.college_tz),
        )


def _positive_number(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        value = float(raw)
    except ValueError:
        raise BadSetting(f"{name} must be a number of seconds, not {raw!r}") from None
    if value <= 0:
        raise BadSetting(f"{name} must be more than 0, not {raw!r}")
    return value


def _zone(name: str | None, default: tzinfo) -> tzinfo:
    if name is None or not name.strip():
        return default
    try:
        return ZoneInfo(name.strip())
    except (ZoneInfoNotFoundError, ValueError):
        raise BadSetting(f"COLLEGE_TZ is not a time zone name (such as Asia/Shanghai): {name!r}") from None
