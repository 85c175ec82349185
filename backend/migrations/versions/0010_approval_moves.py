"""Approval moves: cc, comments, reminders, timeout rules (issue 15)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 14:15:00

抄送 gets a table (application_cc); comments and reminders are flow records, transfers and
delegations tasks, and the timeout rules live in the matters' process JSON: no other change.
"""
from alembic import op
import sqlalchemy as sa


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('application_cc',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('application_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('by_id', sa.Integer(), nullable=False),
    sa.Column('node_key', sa.String(length=64), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['application_id'], ['applications.id'], ),
    sa.ForeignKeyConstraint(['by_id'], ['users.id'], ),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('application_id', 'user_id')
    )
    with op.batch_alter_table('application_cc', schema=None) as batch_op:
        batch_op.create_index('ix_application_cc_user', ['user_id', 'created_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('application_cc', schema=None) as batch_op:
        batch_op.drop_index('ix_application_cc_user')
    op.drop_table('application_cc')
