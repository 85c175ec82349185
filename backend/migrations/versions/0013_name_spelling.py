"""People's names spelled in pinyin for the person picker's search

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01 18:00:00

users.name_spelling ("liming lm" for 李明), kept with the name by the model; filled here for
everyone already imported.
"""
from alembic import op
import sqlalchemy as sa

from backend.db.spelling import spelling


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('name_spelling', sa.String(length=255), server_default='', nullable=False))
    users = sa.table('users', sa.column('id', sa.Integer), sa.column('name', sa.String),
                     sa.column('name_spelling', sa.String))
    connection = op.get_bind()
    rows = connection.execute(sa.select(users.c.id, users.c.name)).all()
    for row in rows:
        connection.execute(users.update().where(users.c.id == row.id).values(name_spelling=spelling(row.name or "")))


def downgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('name_spelling')
