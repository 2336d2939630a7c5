"""xapi_statements: the outbox of learning records for the LRS

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02 19:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('xapi_statements',
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('verb', sa.String(length=12), nullable=False),
    sa.Column('ref', sa.String(length=120), nullable=True),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('claimed_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('claimed_by', sa.String(length=32), nullable=True),
    sa.Column('tries', sa.Integer(), nullable=False),
    sa.Column('rejected_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.String(length=500), nullable=True),
    sa.PrimaryKeyConstraint('seq', name=op.f('pk_xapi_statements')),
    sa.UniqueConstraint('id', name=op.f('uq_xapi_statements_id'))
    )
    with op.batch_alter_table('xapi_statements', schema=None) as batch_op:
        batch_op.create_index('ix_xapi_statements_pending', ['sent_at', 'seq'], unique=False)
        batch_op.create_index(batch_op.f('ix_xapi_statements_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_xapi_statements_ref'), ['ref'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('xapi_statements', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_xapi_statements_ref'))
        batch_op.drop_index(batch_op.f('ix_xapi_statements_created_at'))
        batch_op.drop_index('ix_xapi_statements_pending')
    op.drop_table('xapi_statements')
