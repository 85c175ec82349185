"""Help desk: handed-off conversations, their messages, tickets (issue 14)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 14:15:00

Reserved so that work in parallel keeps one chain; filled in by its issue.
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
