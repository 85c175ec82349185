"""A production installation laid out in a temporary folder the way deploy/ describes it:
the env files of each process (fresh secrets, shared ones equal), the systemd units of
deploy/systemd, and the commands and environment those units give each process."""
from __future__ import annotations

import base64
import os
import secrets
import socket
import sys
from pathlib import Path
from typing import Mapping

from backend.deploy_check import read_unit

ROOT = Path(__file__).resolve().parents[2]
UNITS = ROOT / "deploy" / "systemd"
INSTALLED_AT = "/opt/campus-assistant"


def secret() -> str:
    return secrets.token_urlsafe(48)


def env_files(database_url: str) -> dict[str, dict[str, str]]:
    """The contents of /etc/campus-assistant/*.env for one machine."""
    service_token, webchat, jwt, action_token = secret(), secret(), secret(), secret()
    wecom = {"WECOM_CORP_ID": "wwdeploytest", "WECOM_AGENT_ID": "1000002", "WECOM_SECRET": secret(),
             "WECOM_TOKEN": secrets.token_hex(8),
             "WECOM_AES_KEY": base64.b64encode(os.urandom(32)).decode().rstrip("=")}
    return {
        "database.env": {"DATABASE_URL": database_url},
        "backend.env": {"BACKEND_SECRET_KEY": secret(), "BACKEND_SERVICE_TOKEN": service_token,
                        "WEBCHAT_TOKEN_SECRET": webchat, "TRUSTED_PROXIES": "127.0.0.1"},
        "actions.env": {"ACTION_SERVER_TOKEN": action_token, "BACKEND_SERVICE_TOKEN": service_token},
        "rasa.env": {"RASA_JWT_SECRET": jwt, "ACTION_SERVER_TOKEN": action_token, "WEBCHAT_TOKEN_SECRET": webchat,
                     "RASA_TRACKER_DB_HOST": "127.0.0.1", "RASA_TRACKER_DB_PORT": "5432",
                     "RASA_TRACKER_DB": "campus_rasa", "RASA_TRACKER_DB_USER": "campus_rasa",
                     "RASA_TRACKER_DB_PASSWORD": secret(), **wecom},
        "notify.env": {"RASA_JWT_SECRET": jwt},
        "wecom-gateway.env": {name: wecom[name] for name in ("WECOM_CORP_ID", "WECOM_TOKEN", "WECOM_AES_KEY")},
    }


def write_env_files(directory: Path, files: Mapping[str, Mapping[str, str]]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for name, variables in files.items():
        path = directory / name
        path.write_text("".join(f"{key}={value}\n" for key, value in variables.items()), encoding="utf-8")
        path.chmod(0o600)
    return directory


def process(unit_name: str, files: Mapping[str, Mapping[str, str]], **overrides: str) -> tuple[list[str], dict]:
    """The command line and environment systemd would give the unit's process, run from this
    checkout: Environment= first, then its EnvironmentFile=s (which win), then ``overrides``."""
    unit = read_unit(UNITS / unit_name)
    environment = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), **unit.environment}
    for path in unit.env_files:
        environment.update(files[Path(path).name])
    environment.update(overrides)
    command = [word.replace(INSTALLED_AT, str(ROOT)) for word in unit.exec_start]
    if command[0].endswith("/.venv/backend/bin/python"):
        command[0] = sys.executable  # the backend venv running these tests
    return command, environment


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
