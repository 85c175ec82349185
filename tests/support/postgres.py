"""A fresh PostgreSQL database for a Rasa-side test (Rasa's venv has SQLAlchemy 1.4 and psycopg2),
dropped afterwards; skipped with the reason when the server is not reachable."""
from __future__ import annotations

import os
import uuid
from contextlib import contextmanager

import pytest

POSTGRES = os.environ.get("TEST_POSTGRES_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")


@contextmanager
def fresh_database(prefix: str = "trackers_test"):  # yields the database's sqlalchemy URL
    import sqlalchemy as sa

    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(POSTGRES, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(sa.text(f"CREATE DATABASE {name}"))
    except sa.exc.OperationalError as error:
        admin.dispose()
        pytest.skip(f"PostgreSQL not reachable at {POSTGRES}: {error.orig}")
    try:
        yield sa.engine.make_url(POSTGRES).set(database=name)
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()


def rasa_env(url) -> dict[str, str]:
    """The production endpoints' variables (deploy/endpoints.yml) for that database."""
    return {"RASA_TRACKER_DB_HOST": url.host, "RASA_TRACKER_DB_PORT": str(url.port or 5432),
            "RASA_TRACKER_DB": url.database, "RASA_TRACKER_DB_USER": url.username,
            "RASA_TRACKER_DB_PASSWORD": url.password or ""}
