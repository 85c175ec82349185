"""Help desk: handed-off conversations, their messages, tickets (issue 14)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 14:15:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('helpdesk_conversations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sender', sa.String(length=160), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('open_for', sa.Integer(), nullable=True),
    sa.Column('taken_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('taken_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['taken_by_id'], ['users.id'], ),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('open_for')
    )
    with op.batch_alter_table('helpdesk_conversations', schema=None) as batch_op:
        batch_op.create_index('ix_helpdesk_conversations_status_created', ['status', 'created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_helpdesk_conversations_user_id'), ['user_id'], unique=False)
    op.create_table('helpdesk_messages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('conversation_id', sa.Integer(), nullable=False),
    sa.Column('author', sa.String(length=16), nullable=False),
    sa.Column('staff_id', sa.Integer(), nullable=True),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['conversation_id'], ['helpdesk_conversations.id'], ),
    sa.ForeignKeyConstraint(['staff_id'], ['users.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('helpdesk_messages', schema=None) as batch_op:
        batch_op.create_index('ix_helpdesk_messages_conversation', ['conversation_id', 'id'], unique=False)
    op.create_table('helpdesk_tickets',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('answer', sa.Text(), nullable=True),
    sa.Column('answered_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('answered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['answered_by_id'], ['users.id'], ),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('helpdesk_tickets', schema=None) as batch_op:
        batch_op.create_index('ix_helpdesk_tickets_status_created', ['status', 'created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_helpdesk_tickets_user_id'), ['user_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('helpdesk_tickets', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_helpdesk_tickets_user_id'))
        batch_op.drop_index('ix_helpdesk_tickets_status_created')
    op.drop_table('helpdesk_tickets')
    with op.batch_alter_table('helpdesk_messages', schema=None) as batch_op:
        batch_op.drop_index('ix_helpdesk_messages_conversation')
    op.drop_table('helpdesk_messages')
    with op.batch_alter_table('helpdesk_conversations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_helpdesk_conversations_user_id'))
        batch_op.drop_index('ix_helpdesk_conversations_status_created')
    op.drop_table('helpdesk_conversations')
