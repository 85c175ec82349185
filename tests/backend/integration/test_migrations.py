"""The Alembic migrations build exactly the schema the models describe."""
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from backend.db.models import Base


def _diff(connection):
    return compare_metadata(MigrationContext.configure(connection), Base.metadata)


async def test_migrated_schema_matches_the_models(database):
    async with database.engine.connect() as connection:
        assert await connection.run_sync(_diff) == []
