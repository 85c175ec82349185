"""Uploaded attachments (issue 16 item 1)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01 17:30:00

uploaded_files: one row per uploaded file (owner, original name, content type, size,
sha256, the storage key of its bytes), attached to an application by the submission that
names it (application_id NULL until then). Attachment answers already in applications'
form JSON (typed file names) stay as they are.
"""
from alembic import op
import sqlalchemy as sa


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('uploaded_files',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=False),
    sa.Column('original_name', sa.String(length=255), nullable=False),
    sa.Column('content_type', sa.String(length=128), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('storage_key', sa.String(length=64), nullable=False),
    sa.Column('application_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['application_id'], ['applications.id'], ),
    sa.ForeignKeyConstraint(['owner_id'], ['users.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('storage_key')
    )
    with op.batch_alter_table('uploaded_files', schema=None) as batch_op:
        batch_op.create_index('ix_uploaded_files_owner', ['owner_id', 'created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_uploaded_files_application_id'), ['application_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('uploaded_files', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_uploaded_files_application_id'))
        batch_op.drop_index('ix_uploaded_files_owner')
    op.drop_table('uploaded_files')
