from __future__ import annotations

import os
import secrets
from datetime import datetime, timedelta, timezone
from typing import Any, AsyncIterator, Callable, Optional

import pytest

from backend.config import Settings
from backend.db.database import Database
from backend.web.app import create_app
from backend.workflow.engine import Workflow

from . import databases

SECRET = secrets.token_urlsafe(48)
SERVICE_TOKEN = secrets.token_urlsafe(48)
BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


def _require_postgres() -> bool:
    return os.environ.get("REQUIRE_POSTGRES") == "1"


@pytest.fixture(scope="session")
def postgresql_url() -> Any:
    reason = databases.postgres_unavailable_reason()
    if reason:
        if _require_postgres():
            pytest.fail(f"{reason}; REQUIRE_POSTGRES=1 so this is an error, not a skip")
        pytest.skip(f"{reason} — PostgreSQL tests skipped (start it: see README)")
    name, url = databases.create_postgres_database()
    databases.prepare(url)
    yield url
    databases.drop_postgres_database(name)


@pytest.fixture(scope="session")
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'campus.db'}"
    databases.prepare(url)
    return url


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest) -> str:
    return request.getfixturevalue(f"{request.param}_url")


@pytest.fixture
async def database(database_url: str) -> AsyncIterator[Database]:
    db = Database(database_url)
    await databases.wipe_runtime(db)
    yield db
    await db.dispose()


class Clock:
    """A settable clock so tests can cross days and deadlines deterministically."""

    def __init__(self) -> None:
        self.value: Optional[datetime] = None

    def __call__(self) -> datetime:
        return self.value or datetime.now(timezone.utc)

    def advance(self, **delta: float) -> None:
        self.value = self() + timedelta(**delta)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(database_url=database_url, secret_key=SECRET, service_token=SERVICE_TOKEN)


class Api:
    """Real HTTP to the backend, as one or another demo user."""

    _tokens: dict[tuple[str, str], str] = {}  # (database, username) -> token, reused across tests

    def __init__(self, client: Any, database_url: str):
        self.client = client
        self.database_url = database_url

    async def token(self, username: str) -> str:
        key = (self.database_url, username)
        if key not in self._tokens:
            response = await self.client.post(
                "/api/v1/auth/login", json={"username": username, "password": databases.DEMO_PASSWORD}
            )
            assert response.status == 200, await response.text()
            self._tokens[key] = (await response.json())["token"]
        return self._tokens[key]

    async def call(self, method: str, path: str, user: Optional[str] = None, *, expect: Optional[int] = None,
                   headers: Optional[dict[str, str]] = None, **kwargs: Any) -> tuple[int, Any]:
        headers = dict(headers or {})
        if user is not None:
            headers["Authorization"] = f"Bearer {await self.token(user)}"
        response = await self.client.request(method, f"/api/v1{path}", headers=headers, **kwargs)
        body = await response.json() if response.content_type == "application/json" else await response.text()
        if expect is not None:
            assert response.status == expect, f"{method} {path} → {response.status}: {body}"
        return response.status, body

    async def get(self, path: str, user: Optional[str] = None, **kwargs: Any) -> Any:
        return (await self.call("GET", path, user, expect=kwargs.pop("expect", 200), **kwargs))[1]

    async def post(self, path: str, user: Optional[str] = None, **kwargs: Any) -> Any:
        return (await self.call("POST", path, user, expect=kwargs.pop("expect", 200), **kwargs))[1]


@pytest.fixture
async def api(aiohttp_client: Callable, settings: Settings, database: Database, clock: Clock) -> Api:
    app = create_app(settings, Workflow(settings.timezone, now=clock))
    return Api(await aiohttp_client(app), settings.database_url)


@pytest.fixture
def service_headers() -> Callable[[str], dict[str, str]]:
    def make(identity: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {SERVICE_TOKEN}", "X-On-Behalf-Of": identity}

    return make
