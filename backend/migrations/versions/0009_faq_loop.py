"""FAQ loop: unanswered questions, their groups, answer texts (issue 14)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 14:15:00

Answer texts keyed by retrieval intent (filled by ``import-faq``) and the questions the
assistant could not answer well; a question's group is computed when read, not stored.
"""
from alembic import op
import sqlalchemy as sa


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('faq_answers',
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['updated_by'], ['users.id'], ),
    sa.PrimaryKeyConstraint('key')
    )
    op.create_table('faq_questions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('predicted_key', sa.String(length=64), nullable=True),
    sa.Column('confidence', sa.Float(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('answer_key', sa.String(length=64), nullable=True),
    sa.Column('answered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('answered_by', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['answer_key'], ['faq_answers.key'], ),
    sa.ForeignKeyConstraint(['answered_by'], ['users.id'], ),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('faq_questions', schema=None) as batch_op:
        batch_op.create_index('ix_faq_questions_open', ['answer_key', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_faq_questions_created_at'), ['created_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('faq_questions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_faq_questions_created_at'))
        batch_op.drop_index('ix_faq_questions_open')
    op.drop_table('faq_questions')
    op.drop_table('faq_answers')
