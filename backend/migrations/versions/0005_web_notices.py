"""web chat notices: notifications for people without WeCom

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 04:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('web_notices',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('outbox_id', sa.Integer(), nullable=False),
    sa.Column('messages', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('read_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['outbox_id'], ['outbox.id'], ),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('outbox_id')
    )
    with op.batch_alter_table('web_notices', schema=None) as batch_op:
        batch_op.create_index('ix_web_notices_user_unread', ['user_id', 'read_at', 'id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('web_notices', schema=None) as batch_op:
        batch_op.drop_index('ix_web_notices_user_unread')

    op.drop_table('web_notices')
