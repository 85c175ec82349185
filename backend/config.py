"""Settings, read from the environment (and a ``.env`` file loaded by the CLI).

Secrets are never defaults: without BACKEND_SECRET_KEY the backend refuses to start
and says how to make one.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Optional
from zoneinfo import ZoneInfo

from dotenv import load_dotenv

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = f"sqlite:///{ROOT / 'var' / 'campus.db'}"


class ConfigError(RuntimeError):
    pass


@dataclass(frozen=True)
class Settings:
    database_url: str
    secret_key: str
    service_token: Optional[str] = None
    host: str = "127.0.0.1"
    port: int = 8080
    timezone: ZoneInfo = field(default_factory=lambda: ZoneInfo("Asia/Shanghai"))
    token_ttl_seconds: int = 8 * 3600
    max_body_bytes: int = 64 * 1024
    helpdesk_phone: str = "87150044"

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> "Settings":
        secret = env.get("BACKEND_SECRET_KEY", "")
        if len(secret) < 32:
            raise ConfigError(
                "BACKEND_SECRET_KEY is missing or shorter than 32 characters. "
                "Run `make env` (writes a random one to .env) or export one, e.g. "
                "`export BACKEND_SECRET_KEY=$(python3 -c 'import secrets; print(secrets.token_urlsafe(48))')`."
            )
        service_token = env.get("BACKEND_SERVICE_TOKEN") or None
        if service_token is not None and len(service_token) < 32:
            raise ConfigError("BACKEND_SERVICE_TOKEN must be at least 32 characters (or unset to disable service calls).")
        return cls(
            database_url=env.get("DATABASE_URL", DEFAULT_DATABASE_URL),
            secret_key=secret,
            service_token=service_token,
            host=env.get("BACKEND_HOST", "127.0.0.1"),
            port=int(env.get("BACKEND_PORT", "8080")),
            timezone=ZoneInfo(env.get("COLLEGE_TZ", "Asia/Shanghai")),
            token_ttl_seconds=int(env.get("TOKEN_TTL_SECONDS", str(8 * 3600))),
            max_body_bytes=int(env.get("MAX_BODY_BYTES", str(64 * 1024))),
        )


def load_env_file(path: Path = ROOT / ".env") -> None:
    """Read KEY=VALUE lines from ``.env``; variables already set in the environment win."""
    load_dotenv(path, override=False)
