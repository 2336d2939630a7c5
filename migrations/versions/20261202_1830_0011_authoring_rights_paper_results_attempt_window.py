"""authoring rights (co-owners), paper-test evidence on attendance, final attempt window

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 18:30:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('co_owners',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('object_type', sa.String(length=8), nullable=False),
    sa.Column('object_id', sa.String(length=100), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('granted_by_id', sa.Integer(), nullable=True),
    sa.Column('granted_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['granted_by_id'], ['users.id'], name=op.f('fk_co_owners_granted_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_co_owners_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_co_owners')),
    sa.UniqueConstraint('object_type', 'object_id', 'user_id', name=op.f('uq_co_owners_object_type_object_id_user_id'))
    )
    with op.batch_alter_table('co_owners', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_co_owners_user_id'), ['user_id'], unique=False)
    with op.batch_alter_table('quizzes', schema=None) as batch_op:
        batch_op.add_column(sa.Column('attempt_window_hours', sa.Integer(), server_default='0', nullable=False))
    with op.batch_alter_table('attendances', schema=None) as batch_op:
        batch_op.add_column(sa.Column('score', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('recorded_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('confirmed_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('confirmed_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_attendances_recorded_by_id_users'), 'users', ['recorded_by_id'], ['id'], ondelete='SET NULL')
        batch_op.create_foreign_key(batch_op.f('fk_attendances_confirmed_by_id_users'), 'users', ['confirmed_by_id'], ['id'], ondelete='SET NULL')


def downgrade() -> None:
    with op.batch_alter_table('attendances', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_attendances_confirmed_by_id_users'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_attendances_recorded_by_id_users'), type_='foreignkey')
        batch_op.drop_column('confirmed_at')
        batch_op.drop_column('confirmed_by_id')
        batch_op.drop_column('recorded_at')
        batch_op.drop_column('recorded_by_id')
        batch_op.drop_column('score')
    with op.batch_alter_table('quizzes', schema=None) as batch_op:
        batch_op.drop_column('attempt_window_hours')
    with op.batch_alter_table('co_owners', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_co_owners_user_id'))
    op.drop_table('co_owners')
