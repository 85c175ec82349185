from __future__ import annotations

import os

import pytest

from tests.support import databases


@pytest.fixture
def fresh_postgres_url():
    """An empty PostgreSQL database of the test's own, dropped afterwards."""
    reason = databases.postgres_unavailable_reason()
    if reason:
        if os.environ.get("REQUIRE_POSTGRES") == "1":
            pytest.fail(f"{reason}; REQUIRE_POSTGRES=1 so this is an error, not a skip")
        pytest.skip(f"{reason} — PostgreSQL tests skipped (start it: see README)")
    name, url = databases.create_postgres_database()
    yield url
    databases.drop_postgres_database(name)
