"""LTI 1.3 tool: platforms, the tool's keys, launch states, grade links and the score outbox

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02 19:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('lti_keys',
    sa.Column('kid', sa.String(length=64), nullable=False),
    sa.Column('private_pem', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('signs_from', sa.DateTime(timezone=True), nullable=False),
    sa.Column('signs_until', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('kid', name=op.f('pk_lti_keys'))
    )
    op.create_table('lti_platforms',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('issuer', sa.String(length=500), nullable=False),
    sa.Column('client_id', sa.String(length=255), nullable=False),
    sa.Column('deployment_ids', sa.JSON(), nullable=False),
    sa.Column('auth_login_url', sa.String(length=1000), nullable=False),
    sa.Column('auth_token_url', sa.String(length=1000), nullable=False),
    sa.Column('keyset_url', sa.String(length=1000), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lti_platforms')),
    sa.UniqueConstraint('issuer', 'client_id', name=op.f('uq_lti_platforms_issuer_client_id'))
    )
    op.create_table('lti_contexts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('platform_id', sa.Integer(), nullable=False),
    sa.Column('context_id', sa.String(length=255), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('memberships_url', sa.String(length=1000), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['platform_id'], ['lti_platforms.id'], name=op.f('fk_lti_contexts_platform_id_lti_platforms'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lti_contexts')),
    sa.UniqueConstraint('platform_id', 'context_id', name=op.f('uq_lti_contexts_platform_id_context_id'))
    )
    op.create_table('lti_launch_states',
    sa.Column('state', sa.String(length=64), nullable=False),
    sa.Column('nonce', sa.String(length=64), nullable=False),
    sa.Column('platform_id', sa.Integer(), nullable=False),
    sa.Column('browser_hash', sa.String(length=64), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['platform_id'], ['lti_platforms.id'], name=op.f('fk_lti_launch_states_platform_id_lti_platforms'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('state', name=op.f('pk_lti_launch_states')),
    sa.UniqueConstraint('nonce', name=op.f('uq_lti_launch_states_nonce'))
    )
    with op.batch_alter_table('lti_launch_states', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_lti_launch_states_created_at'), ['created_at'], unique=False)

    op.create_table('lti_grade_links',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('platform_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('quiz_id', sa.String(length=100), nullable=False),
    sa.Column('lineitem', sa.String(length=1000), nullable=False),
    sa.Column('subject', sa.String(length=255), nullable=False),
    sa.Column('launched_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['platform_id'], ['lti_platforms.id'], name=op.f('fk_lti_grade_links_platform_id_lti_platforms'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_lti_grade_links_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lti_grade_links')),
    sa.UniqueConstraint('user_id', 'quiz_id', 'lineitem', name=op.f('uq_lti_grade_links_user_id_quiz_id_lineitem'))
    )
    with op.batch_alter_table('lti_grade_links', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_lti_grade_links_quiz_id'), ['quiz_id'], unique=False)

    op.create_table('lti_scores',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('attempt_id', sa.String(length=32), nullable=False),
    sa.Column('link_id', sa.Integer(), nullable=False),
    sa.Column('body', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('tries', sa.Integer(), nullable=False),
    sa.Column('next_try_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['attempt_id'], ['attempts.id'], name=op.f('fk_lti_scores_attempt_id_attempts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['link_id'], ['lti_grade_links.id'], name=op.f('fk_lti_scores_link_id_lti_grade_links'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lti_scores')),
    sa.UniqueConstraint('attempt_id', 'link_id', name=op.f('uq_lti_scores_attempt_id_link_id'))
    )
    with op.batch_alter_table('lti_scores', schema=None) as batch_op:
        batch_op.create_index('ix_lti_scores_status_due', ['status', 'next_try_at'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('lti_scores', schema=None) as batch_op:
        batch_op.drop_index('ix_lti_scores_status_due')

    op.drop_table('lti_scores')
    with op.batch_alter_table('lti_grade_links', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_lti_grade_links_quiz_id'))

    op.drop_table('lti_grade_links')
    with op.batch_alter_table('lti_launch_states', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_lti_launch_states_created_at'))

    op.drop_table('lti_launch_states')
    op.drop_table('lti_contexts')
    op.drop_table('lti_platforms')
    op.drop_table('lti_keys')
