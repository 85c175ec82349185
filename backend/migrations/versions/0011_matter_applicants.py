"""Matters say who may apply (issue 16 item 6)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 15:20:00

matters.applicants: {kinds, roles} as JSON, NULL for everyone (every matter until the
catalogue is imported again). Users already have their kind (staff | student).
"""
from alembic import op
import sqlalchemy as sa


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('matters', schema=None) as batch_op:
        batch_op.add_column(sa.Column('applicants', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('matters', schema=None) as batch_op:
        batch_op.drop_column('applicants')
