"""WeCom department ids (org sync) and outbox dedupe keys (one reminder per task per day)

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28 00:04:44.543435
"""
from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('departments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('wecom_id', sa.Integer(), nullable=True))
        batch_op.create_unique_constraint('uq_departments_wecom_id', ['wecom_id'])

    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('dedupe_key', sa.String(length=96), nullable=True))
        batch_op.create_unique_constraint('uq_outbox_dedupe_key', ['dedupe_key'])


def downgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_constraint('uq_outbox_dedupe_key', type_='unique')
        batch_op.drop_column('dedupe_key')

    with op.batch_alter_table('departments', schema=None) as batch_op:
        batch_op.drop_constraint('uq_departments_wecom_id', type_='unique')
        batch_op.drop_column('wecom_id')
