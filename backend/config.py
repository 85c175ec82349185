"""Settings, read from the environment (and a ``.env`` file loaded by the CLI).

Secrets are never defaults: without BACKEND_SECRET_KEY the backend refuses to start
and says how to make one.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import datetime
from ipaddress import IPv4Network, IPv6Network, ip_network
from pathlib import Path
from typing import Mapping, Optional
from zoneinfo import ZoneInfo

from dotenv import load_dotenv

from wecom_api import DEFAULT_AUTHORIZE_URL, WeComConfig, WeComConfigError

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = f"sqlite:///{ROOT / 'var' / 'campus.db'}"
DEFAULT_FILES_DIR = ROOT / "var" / "files"
# Uploads people may attach (FILES_ALLOWED_TYPES): by extension; the content is checked too.
DEFAULT_FILE_TYPES = ("pdf", "jpg", "jpeg", "png", "gif", "webp", "doc", "docx", "xls", "xlsx", "ppt", "pptx", "zip")


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
    # The college as people see it: its name (root of the org tree) and the help desk's phone,
    # given in every "call us" message of the pages and the API.
    college_name: str = "浙江艺术职业学院"
    helpdesk_phone: str = "87150044"
    # When the help desk answers chats (COLLEGE_TZ); outside them a message is left as a ticket.
    helpdesk_hours: "ServiceHours" = field(default_factory=lambda: service_hours(DEFAULT_HELPDESK_HOURS))
    # Rasa's HTTP API secret (RASA_JWT_SECRET): the console reads a conversation's tracker with it.
    rasa_jwt_secret: Optional[str] = None
    # Web chat: tokens signed with a secret shared with Rasa's webchat channel (not the
    # backend's own key); messages relayed to Rasa, which listens on loopback only.
    webchat_token_secret: Optional[str] = None
    webchat_token_ttl_seconds: int = 600
    rasa_url: str = "http://127.0.0.1:5005"
    # Peers whose X-Forwarded-For/-Proto are believed (the TLS proxy); none in development.
    trusted_proxies: tuple[IPv4Network | IPv6Network, ...] = ()
    hsts_max_age_seconds: int = 365 * 24 * 3600
    # Login throttling: failures per account / per client address within the window (429
    # beyond), counted in Redis when BACKEND_REDIS_URL is set, else in the audit table (either is
    # shared by all workers). Argon2 hashes: at most this many at once per process, this
    # many more waiting (503 beyond).
    redis_url: Optional[str] = None
    login_account_failures: int = 5
    login_address_failures: int = 20
    login_window_seconds: int = 15 * 60
    login_hash_concurrency: int = 1
    login_hash_queue: int = 8
    # CAS single sign-on (统一身份认证): the college's CAS server, e.g. https://cas.example.edu.cn/cas;
    # unset, the hall has local passwords only. Protocol 3.0 validates at /p3/serviceValidate,
    # 2.0 at /serviceValidate. Our service URL is built from public_url (BACKEND_PUBLIC_URL, the
    # address people open), never from a request's Host header.
    cas_server_url: Optional[str] = None
    cas_protocol: str = "3.0"
    public_url: Optional[str] = None
    # WeCom sign-in (企业微信网页授权) of the hall opened inside WeCom: on with the app's WECOM_CORP_ID,
    # WECOM_AGENT_ID and WECOM_SECRET and BACKEND_PUBLIC_URL (WeCom sends people back to
    # public_url/wecom/callback); WeCom's authorize page is WECOM_AUTHORIZE_URL (the simulator's in
    # development), its API WECOM_API_BASE.
    wecom: Optional[WeComConfig] = None
    wecom_authorize_url: str = DEFAULT_AUTHORIZE_URL
    # Attachments (附件): where uploaded files are kept and what is accepted.
    files: "FileSettings" = field(default_factory=lambda: FileSettings())

    @property
    def wecom_sign_in(self) -> bool:
        return self.wecom is not None and self.public_url is not None

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
        webchat_secret = env.get("WEBCHAT_TOKEN_SECRET") or None
        if webchat_secret is not None and len(webchat_secret) < 32:
            raise ConfigError("WEBCHAT_TOKEN_SECRET must be at least 32 characters (or unset to disable the web chat).")
        return cls(
            database_url=env.get("DATABASE_URL", DEFAULT_DATABASE_URL),
            secret_key=secret,
            service_token=service_token,
            host=env.get("BACKEND_HOST", "127.0.0.1"),
            port=int(env.get("BACKEND_PORT", "8080")),
            timezone=ZoneInfo(env.get("COLLEGE_TZ", "Asia/Shanghai")),
            college_name=env.get("COLLEGE_NAME") or "浙江艺术职业学院",
            helpdesk_phone=env.get("HELPDESK_PHONE") or "87150044",
            helpdesk_hours=service_hours(env.get("HELPDESK_HOURS") or DEFAULT_HELPDESK_HOURS),
            rasa_jwt_secret=env.get("RASA_JWT_SECRET") or None,
            token_ttl_seconds=int(env.get("TOKEN_TTL_SECONDS", str(8 * 3600))),
            max_body_bytes=int(env.get("MAX_BODY_BYTES", str(64 * 1024))),
            webchat_token_secret=webchat_secret,
            webchat_token_ttl_seconds=int(env.get("WEBCHAT_TOKEN_TTL_SECONDS", "600")),
            rasa_url=env.get("RASA_URL") or f"http://127.0.0.1:{env.get('RASA_PORT', '5005')}",
            trusted_proxies=trusted_proxies(env.get("TRUSTED_PROXIES", "")),
            redis_url=env.get("BACKEND_REDIS_URL") or None,
            login_account_failures=int(_number(env, "LOGIN_ACCOUNT_FAILURES", 5)),
            login_address_failures=int(_number(env, "LOGIN_ADDRESS_FAILURES", 20)),
            login_window_seconds=int(_number(env, "LOGIN_WINDOW_SECONDS", 15 * 60)),
            login_hash_concurrency=int(_number(env, "LOGIN_HASH_CONCURRENCY", 1)),
            login_hash_queue=int(_number(env, "LOGIN_HASH_QUEUE", 8)),
            files=file_settings(env),
            **_cas_settings(env),
            **_wecom_settings(env),
        )


@dataclass(frozen=True)
class FileSettings:
    """Uploaded attachments: kept in ``directory`` (FILES_DIR) under random ids, at most
    ``max_bytes`` each (FILES_MAX_MB), ``max_files`` per upload, of the ``types`` listed
    (FILES_ALLOWED_TYPES, extensions separated by commas)."""

    directory: Path = DEFAULT_FILES_DIR
    max_bytes: int = 20 * 1024 * 1024
    max_files: int = 10
    types: tuple[str, ...] = DEFAULT_FILE_TYPES
    # FILES_STORE=s3: an S3-compatible bucket instead of the directory (several machines)
    store: str = "local"
    s3_bucket: Optional[str] = None
    s3_prefix: str = ""
    s3_endpoint_url: Optional[str] = None
    s3_region: Optional[str] = None

    @property
    def max_request_bytes(self) -> int:
        """The body an upload (or a form with its files) may have: every file at its largest, and the form."""
        return self.max_bytes * self.max_files + 1024 * 1024


def file_settings(env: Mapping[str, str]) -> FileSettings:
    store = (env.get("FILES_STORE") or "local").strip().lower()
    if store not in ("local", "s3"):
        raise ConfigError(f"FILES_STORE={store!r}: 'local' (a directory, FILES_DIR) or 's3' (FILES_S3_BUCKET …).")
    bucket = (env.get("FILES_S3_BUCKET") or "").strip() or None
    endpoint = (env.get("FILES_S3_ENDPOINT_URL") or "").strip() or None
    if store == "s3" and not bucket:
        raise ConfigError("FILES_STORE=s3 needs FILES_S3_BUCKET (and FILES_S3_ENDPOINT_URL for MinIO or another "
                          "S3-compatible service; credentials as AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY).")
    if endpoint is not None and not endpoint.startswith(("https://", "http://")):
        raise ConfigError(f"FILES_S3_ENDPOINT_URL must be an http(s) URL, got {endpoint!r}.")
    types = tuple(t.strip().lower().lstrip(".") for t in (env.get("FILES_ALLOWED_TYPES") or "").split(",") if t.strip())
    unknown = [t for t in types if t not in DEFAULT_FILE_TYPES]
    if unknown:
        raise ConfigError(f"FILES_ALLOWED_TYPES: {unknown[0]!r} is not one of {', '.join(DEFAULT_FILE_TYPES)}.")
    return FileSettings(
        directory=Path(env.get("FILES_DIR") or DEFAULT_FILES_DIR),
        max_bytes=int(_number(env, "FILES_MAX_MB", 20) * 1024 * 1024),
        max_files=int(_number(env, "FILES_MAX_COUNT", 10)),
        types=types or DEFAULT_FILE_TYPES,
        store=store, s3_bucket=bucket, s3_prefix=(env.get("FILES_S3_PREFIX") or "").strip(),
        s3_endpoint_url=endpoint, s3_region=(env.get("FILES_S3_REGION") or "").strip() or None,
    )


DEFAULT_HELPDESK_HOURS = "mon-fri 08:30-17:00"
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
WEEKDAY_NAMES = "一二三四五六日"


@dataclass(frozen=True)
class ServiceHours:
    """Weekly opening times: (weekdays 0=Monday, start minute, end minute) per span, local time."""

    spans: tuple[tuple[frozenset[int], int, int], ...]

    def open_at(self, local: datetime) -> bool:
        minute = local.hour * 60 + local.minute
        return any(local.weekday() in days and start <= minute < end for days, start, end in self.spans)

    def describe(self) -> str:
        """For people: 周一至周五 08:30-17:00."""
        if not self.spans:
            return "暂不提供在线服务"

        def days_text(days: frozenset[int]) -> str:
            first, last = min(days), max(days)
            if len(days) > 1 and days == frozenset(range(first, last + 1)):
                return f"周{WEEKDAY_NAMES[first]}至周{WEEKDAY_NAMES[last]}"
            return "、".join(f"周{WEEKDAY_NAMES[d]}" for d in sorted(days))

        return ";".join(f"{days_text(days)} {start // 60:02d}:{start % 60:02d}-{end // 60:02d}:{end % 60:02d}"
                        for days, start, end in self.spans)


def service_hours(raw: str) -> ServiceHours:
    """HELPDESK_HOURS: spans separated by ";", each ``<day>[-<day>] HH:MM-HH:MM`` (mon … sun),
    e.g. ``mon-fri 08:30-12:00; mon-fri 13:30-17:00``; ``never``: chats are never answered live."""
    if raw.strip().lower() == "never":
        return ServiceHours(())
    spans = []
    for part in filter(None, (p.strip().lower() for p in raw.split(";"))):
        try:
            day_part, time_part = part.split()
            first, _, last = day_part.partition("-")
            start_day, end_day = WEEKDAYS.index(first), WEEKDAYS.index(last or first)
            start, end = (_minutes(t) for t in time_part.split("-"))
        except ValueError:
            raise ConfigError(f"HELPDESK_HOURS: {part!r} is not like 'mon-fri 08:30-17:00' "
                              "(days mon … sun, 24-hour times; spans separated by ';'; or 'never').") from None
        if start_day > end_day or start >= end:
            raise ConfigError(f"HELPDESK_HOURS: {part!r} runs backwards.")
        spans.append((frozenset(range(start_day, end_day + 1)), start, end))
    if not spans:
        raise ConfigError("HELPDESK_HOURS is empty: give spans like 'mon-fri 08:30-17:00', or 'never'.")
    return ServiceHours(tuple(spans))


def _minutes(hhmm: str) -> int:
    hours, minutes = (int(n) for n in hhmm.split(":"))
    if not (0 <= hours <= 24 and 0 <= minutes < 60) or hours * 60 + minutes > 24 * 60:
        raise ValueError(hhmm)
    return hours * 60 + minutes


def trusted_proxies(raw: str) -> tuple[IPv4Network | IPv6Network, ...]:
    """TRUSTED_PROXIES: addresses or networks, separated by commas or spaces (127.0.0.1, 10.0.0.0/24)."""
    networks = []
    for item in raw.replace(",", " ").split():
        try:
            networks.append(ip_network(item, strict=False))
        except ValueError:
            raise ConfigError(f"TRUSTED_PROXIES: {item!r} is not an IP address or network "
                              "(e.g. TRUSTED_PROXIES=127.0.0.1 when nginx runs on this machine).") from None
    return tuple(networks)


def _cas_settings(env: Mapping[str, str]) -> dict:
    server = (env.get("CAS_SERVER_URL") or "").strip().rstrip("/") or None
    public = (env.get("BACKEND_PUBLIC_URL") or "").strip().rstrip("/") or None
    protocol = (env.get("CAS_PROTOCOL") or "3.0").strip()
    for name, url in (("CAS_SERVER_URL", server), ("BACKEND_PUBLIC_URL", public)):
        if url is not None and not url.startswith(("https://", "http://")):
            raise ConfigError(f"{name} must be an http(s) URL, got {url!r}.")
    if server and not public:
        raise ConfigError("CAS_SERVER_URL is set but BACKEND_PUBLIC_URL is not: CAS sends people back to "
                          "BACKEND_PUBLIC_URL/login (the hall's address, e.g. https://hall.example.edu.cn).")
    if protocol not in ("2.0", "3.0"):
        raise ConfigError(f"CAS_PROTOCOL must be 2.0 or 3.0, got {protocol!r}.")
    return {"cas_server_url": server, "cas_protocol": protocol, "public_url": public}


def _wecom_settings(env: Mapping[str, str]) -> dict:
    authorize = (env.get("WECOM_AUTHORIZE_URL") or "").strip() or DEFAULT_AUTHORIZE_URL
    if not authorize.startswith(("https://", "http://")):
        raise ConfigError(f"WECOM_AUTHORIZE_URL must be an http(s) URL, got {authorize!r}.")
    if not (env.get("WECOM_SECRET") or "").strip():  # the backend does not use WeCom
        return {"wecom": None, "wecom_authorize_url": authorize}
    try:
        wecom = WeComConfig.from_env(env, callbacks=False)
    except WeComConfigError as error:
        raise ConfigError(f"{error} (the hall's WeCom sign-in calls WeCom's API as the app).") from None
    return {"wecom": wecom, "wecom_authorize_url": authorize}


def load_env_file(path: Path = ROOT / ".env") -> None:
    """Read KEY=VALUE lines from ``.env``; variables already set in the environment win."""
    load_dotenv(path, override=False)


def _number(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name, "")
    try:
        value = float(raw) if raw else default
    except ValueError:
        raise ConfigError(f"{name} must be a number, got {raw!r}.") from None
    if value <= 0:
        raise ConfigError(f"{name} must be greater than 0, got {raw!r}.")
    return value


@dataclass(frozen=True)
class DigestSchedule:
    """The approvers' morning digest: at ``minute`` (after local midnight, COLLEGE_TZ) on ``days``
    (0=Monday), or on China's official working days (``workdays``: public holidays off, the
    weekends made working days on — backend/notify/digest.py); ``minute`` None: no digest."""

    minute: Optional[int] = None
    days: frozenset[int] = frozenset(range(5))
    timezone: ZoneInfo = field(default_factory=lambda: ZoneInfo("Asia/Shanghai"))
    workdays: bool = False

    def describe(self) -> str:
        """For the notifier's start line: ``morning digest at 08:30 mon,tue,wed,thu,fri``."""
        if self.minute is None:
            return "no morning digest"
        days = "on China's working days" if self.workdays else ",".join(WEEKDAYS[d] for d in sorted(self.days))
        return f"morning digest at {self.minute // 60:02d}:{self.minute % 60:02d} {days} ({self.timezone.key})"


def digest_schedule(time_raw: str, days_raw: str, timezone: ZoneInfo) -> DigestSchedule:
    """DIGEST_TIME ``HH:MM`` or ``off``; DIGEST_DAYS ``workdays`` (China's official working days) or
    weekdays like ``mon-fri`` or ``mon,wed,fri`` (mon … sun)."""
    if time_raw.strip().lower() == "off":
        return DigestSchedule(None, frozenset(), timezone)
    try:
        minute = _minutes(time_raw.strip())
        if minute >= 24 * 60:
            raise ValueError(time_raw)
    except ValueError:
        raise ConfigError(f"DIGEST_TIME: {time_raw!r} is not a time like '08:30' (or 'off').") from None
    if days_raw.strip().lower() == "workdays":
        return DigestSchedule(minute, frozenset(range(5)), timezone, workdays=True)
    days: set[int] = set()
    for part in filter(None, (p.strip() for p in days_raw.lower().split(","))):
        first, _, last = part.partition("-")
        try:
            start, end = WEEKDAYS.index(first.strip()), WEEKDAYS.index((last or first).strip())
        except ValueError:
            raise ConfigError(f"DIGEST_DAYS: {part!r} is not 'workdays' or like 'mon-fri' (days mon … sun, "
                              "ranges or single days separated by ',').") from None
        if start > end:
            raise ConfigError(f"DIGEST_DAYS: {part!r} runs backwards.")
        days.update(range(start, end + 1))
    if not days:
        raise ConfigError("DIGEST_DAYS is empty: give days like 'mon-fri' (or DIGEST_TIME=off for no digest).")
    return DigestSchedule(minute, frozenset(days), timezone)


@dataclass(frozen=True)
class NotifierSettings:
    """The outbox worker (``python -m backend notify``): where Rasa is and how hard to try."""

    rasa_url: str
    rasa_jwt_secret: str  # signs the short-lived JWT of each trigger_intent call (Rasa's RASA_JWT_SECRET)
    poll_seconds: float = 2.0
    batch_size: int = 20
    request_timeout_seconds: float = 10.0
    # A claimed row is hidden from other workers this long; no delivery starts after
    # lease - timeout, so a row is never in flight in two workers at once.
    lease_seconds: float = 120.0
    max_attempts: int = 8
    backoff_base_seconds: float = 10.0
    backoff_max_seconds: float = 3600.0
    overdue_hours: float = 24.0
    reminder_scan_seconds: float = 300.0
    timezone: ZoneInfo = field(default_factory=lambda: ZoneInfo("Asia/Shanghai"))
    # The morning digest (backend/notify/digest.py): off unless given; from_env's default is 08:30 mon-fri.
    digest: DigestSchedule = field(default_factory=DigestSchedule)

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> "NotifierSettings":
        missing = [name for name in ("RASA_URL", "RASA_JWT_SECRET") if not env.get(name)]
        if missing:
            raise ConfigError(
                f"{' and '.join(missing)} not set. The notifier delivers through Rasa's trigger_intent API: "
                "set RASA_URL (e.g. http://127.0.0.1:5005) and RASA_JWT_SECRET (the secret Rasa's API checks "
                "JWTs with; `make env` writes one to .env)."
            )
        if len(env["RASA_JWT_SECRET"]) < 32:
            raise ConfigError("RASA_JWT_SECRET must be at least 32 characters.")
        settings = cls(
            rasa_url=env["RASA_URL"].rstrip("/"),
            rasa_jwt_secret=env["RASA_JWT_SECRET"],
            poll_seconds=_number(env, "NOTIFY_POLL_SECONDS", 2.0),
            batch_size=int(_number(env, "NOTIFY_BATCH_SIZE", 20)),
            request_timeout_seconds=_number(env, "NOTIFY_TIMEOUT_SECONDS", 10.0),
            lease_seconds=_number(env, "NOTIFY_LEASE_SECONDS", 120.0),
            max_attempts=int(_number(env, "NOTIFY_MAX_ATTEMPTS", 8)),
            backoff_base_seconds=_number(env, "NOTIFY_BACKOFF_SECONDS", 10.0),
            backoff_max_seconds=_number(env, "NOTIFY_BACKOFF_MAX_SECONDS", 3600.0),
            overdue_hours=_number(env, "NOTIFY_OVERDUE_HOURS", 24.0),
            reminder_scan_seconds=_number(env, "NOTIFY_REMINDER_SCAN_SECONDS", 300.0),
            timezone=ZoneInfo(env.get("COLLEGE_TZ", "Asia/Shanghai")),
            digest=digest_schedule(env.get("DIGEST_TIME") or "08:30", env.get("DIGEST_DAYS") or "workdays",
                                   ZoneInfo(env.get("COLLEGE_TZ", "Asia/Shanghai"))),
        )
        if settings.lease_seconds <= settings.request_timeout_seconds:
            raise ConfigError("NOTIFY_LEASE_SECONDS must be longer than NOTIFY_TIMEOUT_SECONDS.")
        return settings

