"""``python -m backend check-deploy``: what is wrong with a production installation, in plain words.

It reads what systemd will start (the campus-* units), the env file of each process, the
Rasa files those units name (credentials, endpoints) and the database, and reports every
problem it finds: a missing, short, mismatched or misplaced secret, SQLite in production,
demo accounts that accept the published demo password, the REST channel, Rasa or the
action server listening beyond loopback, TRUSTED_PROXIES unset, a development .env left in
the application directory … Nothing is changed.
"""
from __future__ import annotations

import asyncio
import re
import shlex
import stat
from dataclasses import dataclass
from ipaddress import ip_address
from pathlib import Path
from typing import Mapping, Optional
from urllib.parse import parse_qs, urlsplit

import yaml
from dotenv import dotenv_values
from sqlalchemy import select
from sqlalchemy.engine import make_url

from wecom_api import WeComConfig, WeComConfigError
from wecom_api.config import CALLBACK_NAMES, CALLBACK_ONLY_NAMES

from .auth.passwords import verify_password
from .catalog.loader import DEMO_DIR, read_yaml
from .config import ConfigError, trusted_proxies
from .db import migrate
from .db.database import Database
from .db.models import User

ENV_DIR = Path("/etc/campus-assistant")
UNITS_DIR = Path("/etc/systemd/system")
MIN_SECRET_LENGTH = 32
GENERATE = "python3 -c 'import secrets; print(secrets.token_urlsafe(48))'"
# Random secrets: at least MIN_SECRET_LENGTH characters, each different from the others.
RANDOM_SECRETS = ("BACKEND_SECRET_KEY", "BACKEND_SERVICE_TOKEN", "WEBCHAT_TOKEN_SECRET", "RASA_JWT_SECRET",
                  "ACTION_SERVER_TOKEN")
OTHER_SECRETS = ("DATABASE_URL", "RASA_TRACKER_DB_PASSWORD", "WECOM_SECRET", "WECOM_TOKEN", "WECOM_AES_KEY",
                 "INITIAL_PASSWORD", "DEMO_PASSWORD", "RASA_AUTH_TOKEN")
REFUSED_CHANNELS = {"rest": "the REST channel trusts any sender id",
                    "socketio": "the socket.io channel takes its session id from the client",
                    "callback": "the callback channel trusts any sender id"}
DEVELOPMENT_ONLY = ("credentials.dev.yml", "seed-demo", "wecom_simulator", "--auth-token", "--jwt-secret")


@dataclass(frozen=True)
class Process:
    unit: str
    env_files: tuple[str, ...]
    secrets: tuple[str, ...]  # the secrets it uses; any other one in its environment is a problem


RASA_SECRETS = ("RASA_JWT_SECRET", "ACTION_SERVER_TOKEN", "WEBCHAT_TOKEN_SECRET", "RASA_TRACKER_DB_PASSWORD",
                "WECOM_SECRET", "WECOM_TOKEN", "WECOM_AES_KEY")
PROCESSES = (
    Process("campus-migrate.service", ("database.env",), ("DATABASE_URL",)),
    Process("campus-import-faq.service", ("database.env",), ("DATABASE_URL",)),
    # WECOM_SECRET: the hall's WeCom sign-in (optional) calls WeCom's API as the app.
    Process("campus-backend.service", ("database.env", "backend.env"),
            ("DATABASE_URL", "BACKEND_SECRET_KEY", "BACKEND_SERVICE_TOKEN", "WEBCHAT_TOKEN_SECRET", "WECOM_SECRET")),
    Process("campus-actions.service", ("actions.env",), ("ACTION_SERVER_TOKEN", "BACKEND_SERVICE_TOKEN")),
    Process("campus-rasa.service", ("rasa.env",), RASA_SECRETS),
    # Rasa's own tool: it reads the whole endpoints file, so it needs Rasa's settings.
    Process("campus-prune-trackers.service", ("rasa.env",), RASA_SECRETS),
    # The backend's user and files: it reads the database and the file store, nothing secret else.
    Process("campus-prune-files.service", ("database.env", "backend.env"),
            ("DATABASE_URL", "BACKEND_SECRET_KEY", "BACKEND_SERVICE_TOKEN", "WEBCHAT_TOKEN_SECRET", "WECOM_SECRET")),
    Process("campus-notify.service", ("database.env", "notify.env"), ("DATABASE_URL", "RASA_JWT_SECRET")),
    # The gateway only verifies and decrypts callbacks: no app secret.
    Process("campus-wecom-gateway.service", ("wecom-gateway.env",), ("WECOM_TOKEN", "WECOM_AES_KEY")),
)


@dataclass
class Unit:
    name: str
    exec_start: list[str]
    environment: dict[str, str]  # Environment= lines, then the env files (which win, as in systemd)
    env_files: list[str]
    working_directory: Optional[Path]

    def option(self, name: str) -> Optional[str]:
        """The value of ``--name value`` or ``--name=value`` on the command line."""
        for index, word in enumerate(self.exec_start):
            if word == name and index + 1 < len(self.exec_start):
                return self.exec_start[index + 1]
            if word.startswith(name + "="):
                return word.split("=", 1)[1]
        return None


class Findings(list):
    def add(self, where: str, problem: str) -> None:
        self.append(f"{where}: {problem}")


# ------------------------------------------------------------------ reading
def read_unit(path: Path) -> Unit:
    exec_start: list[str] = []
    environment: dict[str, str] = {}
    env_files: list[str] = []
    working_directory = None
    for line in path.read_text(encoding="utf-8").splitlines():
        key, _, value = line.strip().partition("=")
        if key == "ExecStart":
            exec_start = shlex.split(value)
        elif key == "Environment":
            environment.update(item.split("=", 1) for item in shlex.split(value) if "=" in item)
        elif key == "EnvironmentFile":
            env_files.append(value.lstrip("-"))
        elif key == "WorkingDirectory":
            working_directory = Path(value)
    return Unit(path.name, exec_start, environment, env_files, working_directory)


def read_env_file(path: Path, findings: Findings) -> dict[str, str]:
    if not path.is_file():
        findings.add(path.name, f"missing ({path}); copy deploy/env/{path.name}.example and fill it in")
        return {}
    if path.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        findings.add(path.name, f"others can read it; `chown root:root {path} && chmod 600 {path}` "
                                "(systemd reads it as root, the services need not)")
    return {key: value or "" for key, value in dotenv_values(path).items()}


# ------------------------------------------------------------------ checks
def check(env_dir: Path, units_dir: Path, app_dir: Optional[Path] = None,
          demo_password: str = "Demo@2026") -> list[str]:
    findings = Findings()
    env_files = {name: read_env_file(env_dir / name, findings)
                 for name in sorted({name for process in PROCESSES for name in process.env_files})}
    units = {}
    for process in PROCESSES:
        path = units_dir / process.unit
        if not path.is_file():
            findings.add(process.unit, f"not installed in {units_dir} (copy deploy/systemd/*)")
            continue
        unit = units[process.unit] = read_unit(path)
        check_unit(unit, process, env_files, findings)
    check_secrets(env_files, findings)
    check_backend(env_files, units.get("campus-backend.service"), findings)
    root = app_dir or next((u.working_directory for u in units.values() if u.working_directory), None)
    if root is not None:
        if (root / ".env").exists():
            findings.add(str(root / ".env"), "a development .env in the application directory: the backend "
                         "reads any setting missing from its env files there; delete it")
        rasa = units.get("campus-rasa.service")
        if rasa is not None:
            check_rasa(rasa, root, env_files.get("rasa.env", {}), findings)
    actions = units.get("campus-actions.service")
    if actions is not None:
        check_listening(actions.name, {**actions.environment, **env_files.get("actions.env", {})}.get("SANIC_HOST"),
                        "SANIC_HOST", "the action server", findings)
    gateway = units.get("campus-wecom-gateway.service")
    if gateway is not None:
        check_listening(gateway.name, gateway.option("--host") or "127.0.0.1", "--host", "the WeCom gateway", findings)
    check_wecom(env_files, findings)
    database_url = env_files.get("database.env", {}).get("DATABASE_URL")
    if database_url:
        check_database(database_url, demo_password, findings)
    return findings


def check_unit(unit: Unit, process: Process, env_files: Mapping[str, Mapping[str, str]], findings: Findings) -> None:
    named = [Path(path).name for path in unit.env_files]
    if sorted(named) != sorted(process.env_files):
        findings.add(unit.name, f"reads the env files {named or 'none'}; it should read exactly "
                                f"{list(process.env_files)} (each process only the secrets it uses)")
    command = " ".join(unit.exec_start)
    for word in DEVELOPMENT_ONLY:
        if word in command:
            findings.add(unit.name, f"its command line has {word!r}, which is for development only "
                                    "(and a secret on a command line is visible to every user in ps)")
    for file_name in process.env_files:
        for name in env_files.get(file_name, {}):
            if name in RANDOM_SECRETS + OTHER_SECRETS and name not in process.secrets:
                findings.add(file_name, f"holds {name}, which {unit.name} does not use: keep each secret only in "
                                        "the env file of the process that uses it")
    for name, value in unit.environment.items():
        if name in RANDOM_SECRETS + OTHER_SECRETS and value:
            findings.add(unit.name, f"sets {name} in the unit itself (world-readable); move it to its env file")


def check_secrets(env_files: Mapping[str, Mapping[str, str]], findings: Findings) -> None:
    values: dict[str, set[str]] = {}
    for file_name, variables in env_files.items():
        for name in RANDOM_SECRETS:
            if name not in variables and not _needs(file_name, name):
                continue
            value = variables.get(name, "")
            if not value:
                findings.add(file_name, f"{name} is not set; generate one with {GENERATE}")
            elif len(value) < MIN_SECRET_LENGTH:
                findings.add(file_name, f"{name} is only {len(value)} characters long; use at least "
                                        f"{MIN_SECRET_LENGTH} random characters ({GENERATE})")
            if value:
                values.setdefault(name, set()).add(value)
    for name, different in values.items():
        if len(different) > 1:
            holders = [f for f, v in env_files.items() if v.get(name)]
            findings.add(name, f"differs between {', '.join(holders)}; it must be the same value in each")
    seen: dict[str, str] = {}
    for name, different in values.items():
        for value in different:
            if value in seen and seen[value] != name:
                findings.add(name, f"has the same value as {seen[value]}; every secret must be different")
            seen.setdefault(value, name)


def _needs(file_name: str, name: str) -> bool:
    return any(file_name in process.env_files and name in process.secrets and file_name != "database.env"
               for process in PROCESSES)


def check_backend(env_files: Mapping[str, Mapping[str, str]], unit: Optional[Unit], findings: Findings) -> None:
    database_url = env_files.get("database.env", {}).get("DATABASE_URL", "")
    if not database_url:
        findings.add("database.env", "DATABASE_URL is not set (postgresql://user:password@host/database)")
    elif make_url(database_url).get_backend_name() == "sqlite":
        findings.add("database.env", f"DATABASE_URL is SQLite ({database_url}); production needs PostgreSQL "
                                     "(several processes write at once)")
    backend = {**(unit.environment if unit else {}), **env_files.get("backend.env", {})}
    try:
        proxies = trusted_proxies(backend.get("TRUSTED_PROXIES", ""))
    except ConfigError as error:
        findings.add("backend.env", str(error))
        proxies = ()
    else:
        if not proxies:
            findings.add("backend.env", "TRUSTED_PROXIES is not set: behind nginx the backend takes every request "
                                        "for plain http, so the session cookie is not Secure and no HSTS is sent "
                                        "(TRUSTED_PROXIES=127.0.0.1 when nginx runs on this machine)")
    for setting in ("BACKEND_PUBLIC_URL", "CAS_SERVER_URL"):  # sign-in redirects and ticket checks
        url = backend.get(setting, "")
        if url and not url.lower().startswith("https://"):
            findings.add("backend.env", f"{setting}={url} is not https: sign-in tickets and codes would travel "
                                        "in the clear (use the https:// address)")
    host = backend.get("BACKEND_HOST", "127.0.0.1")
    if _all_interfaces(host):
        findings.add("campus-backend.service", f"BACKEND_HOST={host} listens on every interface; use 127.0.0.1 "
                                               "(nginx is the only way in)")


def check_listening(where: str, host: Optional[str], setting: str, what: str, findings: Findings) -> None:
    if host is None:
        findings.add(where, f"{setting} is not set, so {what} listens on every interface; set {setting}=127.0.0.1")
    elif not _loopback(host):
        findings.add(where, f"{what} listens on {host} ({setting}); it must listen on 127.0.0.1 only")


def check_rasa(unit: Unit, root: Path, env: Mapping[str, str], findings: Findings) -> None:
    where = unit.name
    interface = unit.option("--interface") or unit.option("-i")
    check_listening(where, interface, "--interface", "Rasa", findings)
    for option in ("--auth-token", "-t", "--jwt-secret"):
        if unit.option(option):
            findings.add(where, f"{option} puts a secret on Rasa's command line (visible in ps); "
                                "bot/server.py reads RASA_JWT_SECRET from rasa.env instead")
    credentials = unit.option("--credentials")
    if credentials is None:
        findings.add(where, "no --credentials: name bot/credentials.yml (the production channels)")
    else:
        check_credentials(where, root / credentials, findings)
    endpoints = unit.option("--endpoints")
    if endpoints is None:
        findings.add(where, "no --endpoints: name deploy/endpoints.yml (the PostgreSQL tracker store)")
    else:
        check_endpoints(root / endpoints, {**unit.environment, **env}, findings)


def check_credentials(where: str, path: Path, findings: Findings) -> None:
    try:
        channels = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as error:
        findings.add(where, f"cannot read the credentials {path}: {error}")
        return
    for channel, why in REFUSED_CHANNELS.items():
        if channel in channels:
            findings.add(str(path), f"enables the {channel!r} channel: {why}, so anyone who reaches Rasa can act "
                                    "as any user; production uses bot/credentials.yml")


def check_endpoints(path: Path, env: Mapping[str, str], findings: Findings) -> None:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        findings.add(str(path), f"cannot be read: {error}")
        return
    used = re.findall(r"\$\{(\w+)\}", "\n".join(line for line in text.splitlines()
                                           if not line.lstrip().startswith("#")))
    for name in sorted(set(used) - set(RANDOM_SECRETS)):  # those are reported with the env file
        if not env.get(name):
            findings.add("rasa.env", f"{name} is not set, and {path.name} uses it (Rasa will not start)")
    endpoints = yaml.safe_load(re.sub(r"\$\{(\w+)\}", lambda m: env.get(m.group(1), ""), text)) or {}
    store = endpoints.get("tracker_store") or {}
    if not store:
        findings.add(str(path), "no tracker_store: conversations live in Rasa's memory and a restart loses them")
    elif str(store.get("dialect", "sqlite")) == "sqlite":
        findings.add(str(path), "the tracker store is SQLite; production keeps conversations in PostgreSQL")
    action = endpoints.get("action_endpoint") or {}
    url = str(action.get("url", ""))
    if "token" in parse_qs(urlsplit(url).query) or action.get("token"):
        findings.add(str(path), "the action server's token goes in the URL (logged); send it as a header")
    elif "Authorization" not in (action.get("headers") or {}):
        findings.add(str(path), "action_endpoint sends no Authorization header, so the action server refuses Rasa")


def check_wecom(env_files: Mapping[str, Mapping[str, str]], findings: Findings) -> None:
    gateway, rasa = env_files.get("wecom-gateway.env", {}), env_files.get("rasa.env", {})
    for file_name, env, api in (("wecom-gateway.env", gateway, False), ("rasa.env", rasa, True)):
        try:
            WeComConfig.from_env(env, api=api)
        except WeComConfigError as error:
            findings.add(file_name, f"{error} (without WeCom, leave campus-wecom-gateway.service out of the target)")
    differing = [name for name in CALLBACK_ONLY_NAMES + CALLBACK_NAMES if gateway.get(name, "") != rasa.get(name, "")]
    if differing:
        findings.add("wecom-gateway.env", f"{', '.join(differing)} differ from rasa.env; the gateway and Rasa's "
                                          "channel verify the same callbacks")


def check_database(url: str, demo_password: str, findings: Findings) -> None:
    try:
        current, demo_accounts = asyncio.run(asyncio.wait_for(_read_database(url, demo_password), 30))
    except Exception as error:  # noqa: BLE001 - whatever fails, say so and go on with the rest
        findings.add("database", f"cannot read {_without_password(url)}: {error.__class__.__name__}: {error}")
        return
    head = migrate.head_revision(url)
    if current != head:
        findings.add("database", f"schema at {current or 'nothing (empty database)'}, not {head}: "
                                 "run `python -m backend migrate` (campus-migrate.service)")
    if demo_accounts:
        shown = ", ".join(demo_accounts[:5]) + (" …" if len(demo_accounts) > 5 else "")
        findings.add("database", f"{len(demo_accounts)} demo accounts ({shown}) accept the published demo "
                                 "password: this is the demo college, not a real one; import the college's own "
                                 "people (import-org) into a fresh database")


async def _read_database(url: str, demo_password: str) -> tuple[Optional[str], list[str]]:
    database = Database(url)
    try:
        async with database.engine.connect() as connection:
            current = await migrate.current_revision(connection)
        if current is None:
            return None, []
        demo_usernames = [user["username"] for user in read_yaml(DEMO_DIR / "org.yml").get("users") or []]
        async with database.read() as session:
            rows = (await session.execute(select(User.username, User.password_hash)
                                          .where(User.username.in_(demo_usernames)))).all()
        # Argon2 is slow on purpose: off the event loop, and only the demo college's usernames.
        accepted = await asyncio.to_thread(
            lambda: [name for name, hashed in rows if hashed and verify_password(hashed, demo_password)])
        return current, sorted(accepted)
    finally:
        await database.dispose()


# ------------------------------------------------------------------ helpers
def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _all_interfaces(host: str) -> bool:
    return host.strip("[]") in ("0.0.0.0", "::", "")


def _without_password(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


def report(findings: list[str]) -> str:
    if not findings:
        return "check-deploy: nothing misconfigured found."
    lines = [f"check-deploy: {len(findings)} problem{'s' if len(findings) > 1 else ''} to fix:"]
    lines += [f"  ✗ {finding}" for finding in findings]
    return "\n".join(lines)
