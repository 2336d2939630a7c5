"""attempts: index (user_id, quiz_id, status) in place of (user_id, quiz_id)

Starting an attempt counts the learner's submitted attempts of the quiz. With the index on
(user_id, quiz_id) alone, SQLite read every one of those attempt rows to test its status: a
learner who had practised a quiz a hundred times paid ~430 µs per start (issue 14). With status
in the index the count reads the index only.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-04 17:00:00
"""
from alembic import op


revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('attempts', schema=None) as batch_op:
        batch_op.create_index('ix_attempts_user_quiz_status', ['user_id', 'quiz_id', 'status'], unique=False)
        batch_op.drop_index('ix_attempts_user_quiz')


def downgrade() -> None:
    with op.batch_alter_table('attempts', schema=None) as batch_op:
        batch_op.create_index('ix_attempts_user_quiz', ['user_id', 'quiz_id'], unique=False)
        batch_op.drop_index('ix_attempts_user_quiz_status')
