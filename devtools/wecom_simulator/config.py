"""The simulated corp/app: the same WECOM_* settings the channel reads, CLI overrides."""
from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Mapping, Optional

from wecom_api.config import WeComConfig, WeComConfigError, is_aes_key

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_ORG = ROOT / "backend" / "demo_data" / "org.yml"
ENV_NAMES = ("WECOM_CORP_ID", "WECOM_AGENT_ID", "WECOM_SECRET", "WECOM_TOKEN", "WECOM_AES_KEY")
FIELDS = ("corp_id", "agent_id", "secret", "token", "aes_key")


class ConfigError(ValueError):
    pass


@dataclass(frozen=True)
class SimulatorConfig:
    corp_id: str
    agent_id: int
    secret: str
    token: str
    aes_key: str
    callback_url: Optional[str] = None
    org_path: Path = DEFAULT_ORG
    token_ttl: int = 7200            # gettoken's expires_in
    callback_timeout: float = 5.0    # WeCom drops a callback that has not answered in 5 s
    callback_tries: int = 3          # ... and tries 3 times in all
    max_body_bytes: int = 2 * 1024 * 1024

    def __post_init__(self) -> None:
        if not is_aes_key(self.aes_key):
            raise ConfigError("WECOM_AES_KEY must be 43 base64 characters (a 32-byte key)")
        if not self.corp_id or not self.secret or not self.token:
            raise ConfigError("WECOM_CORP_ID, WECOM_SECRET and WECOM_TOKEN must not be empty")
        if self.token_ttl <= 0 or self.callback_timeout <= 0 or self.callback_tries < 1:
            raise ConfigError("token TTL, callback timeout and tries must be positive")

    @classmethod
    def from_env(cls, env: Mapping[str, str], **overrides: object) -> "SimulatorConfig":
        """Build from WECOM_* variables (parsed as the channel parses them); a keyword override
        (not None) wins over the env."""
        given = {k: v for k, v in overrides.items() if v is not None}
        merged = {**env, **{name: str(given.pop(key)) for key, name in zip(FIELDS, ENV_NAMES) if key in given}}
        try:
            wecom = WeComConfig.from_env(merged)
        except WeComConfigError as error:
            raise ConfigError(f"{error} (set them in the environment/.env, pass them as options, "
                              "or use --dev-credentials)") from None
        return cls(**{key: getattr(wecom, key) for key in FIELDS}, **given)  # type: ignore[arg-type]

    def with_callback(self, url: str) -> "SimulatorConfig":
        return replace(self, callback_url=url)


def write_dev_env(path: Path, port: int, callback_url: str, hall_port: int = 8080) -> bool:
    """Write a development corp's settings for ``make run`` once; False if the file exists (then
    only settings added since it was written are appended: the hall's WeCom sign-in)."""
    if path.exists():
        _add_missing(path, port, hall_port)
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = ["# Written by make run: a development WeCom corp that exists only in the simulator.",
             "# Real WECOM_* settings in the environment or .env replace it. Never commit this file."]
    lines += [f"{name}={value}" for name, value in dev_credentials().items()]
    lines += [f"WECOM_SIMULATOR_PORT={port}", f"WECOM_API_BASE=http://127.0.0.1:{port}/cgi-bin/",
              f"WECOM_CALLBACK_URL={callback_url}"]
    lines += [f"{name}={value}" for name, value in _sign_in_settings(port, hall_port).items()]
    path.touch(mode=0o600)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return True


def _sign_in_settings(port: int, hall_port: int) -> dict[str, str]:
    """The hall signs people in from inside WeCom through the simulator's OAuth2 authorize page."""
    return {"WECOM_AUTHORIZE_URL": f"http://127.0.0.1:{port}/connect/oauth2/authorize",
            "BACKEND_PUBLIC_URL": f"http://127.0.0.1:{hall_port}"}


def _add_missing(path: Path, port: int, hall_port: int) -> None:
    text = path.read_text(encoding="utf-8")
    known = dict(line.split("=", 1) for line in text.splitlines() if "=" in line and not line.startswith("#"))
    port = int(known.get("WECOM_SIMULATOR_PORT", port))
    missing = {k: v for k, v in _sign_in_settings(port, hall_port).items() if k not in known}
    if missing:
        path.write_text(text.rstrip("\n") + "\n" + "".join(f"{k}={v}\n" for k, v in missing.items()), encoding="utf-8")


def dev_credentials() -> dict[str, str]:
    """Fresh random credentials for a development corp that exists only in the simulator."""
    return {
        "WECOM_CORP_ID": "wwdev" + secrets.token_hex(6),
        "WECOM_AGENT_ID": "1000002",
        "WECOM_SECRET": secrets.token_urlsafe(32),
        "WECOM_TOKEN": secrets.token_urlsafe(16),
        "WECOM_AES_KEY": base64.b64encode(secrets.token_bytes(32)).decode()[:43],
    }
