"""CAS single sign-on: how a web session started, and the CAS tickets sessions started with

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 12:30:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('web_sessions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('method', sa.String(length=16), server_default='password', nullable=False))
    op.create_table('cas_tickets',
    sa.Column('ticket_hash', sa.String(length=64), nullable=False),
    sa.Column('session_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['session_hash'], ['web_sessions.id_hash'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('ticket_hash')
    )
    with op.batch_alter_table('cas_tickets', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cas_tickets_session_hash'), ['session_hash'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('cas_tickets', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cas_tickets_session_hash'))
    op.drop_table('cas_tickets')
    with op.batch_alter_table('web_sessions', schema=None) as batch_op:
        batch_op.drop_column('method')
