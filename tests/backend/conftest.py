from __future__ import annotations

import os
from typing import Any, AsyncIterator, Callable

import pytest

from backend.config import FileSettings, Settings
from backend.db.database import Database
from backend.web.app import create_app
from backend.workflow.engine import Workflow

from tests.support import databases
from tests.support.backend_api import SECRET, SERVICE_TOKEN, Api
from tests.support.clock import Clock

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


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def settings(database_url: str, tmp_path) -> Settings:
    return Settings(database_url=database_url, secret_key=SECRET, service_token=SERVICE_TOKEN,
                    files=FileSettings(directory=tmp_path / "files", max_bytes=1024 * 1024, max_files=3))


@pytest.fixture
async def api(aiohttp_client: Callable, settings: Settings, database: Database, clock: Clock) -> Api:
    app = create_app(settings, Workflow(settings.timezone, now=clock))
    return Api(await aiohttp_client(app), settings.database_url)


@pytest.fixture
def service_headers() -> Callable[[str], dict[str, str]]:
    def make(identity: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {SERVICE_TOKEN}", "X-On-Behalf-Of": identity}

    return make
