"""sso_unit_policies: a unit's officials sign in only with the identity provider

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02 19:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('sso_unit_policies',
    sa.Column('unit_code', sa.String(length=5), nullable=False),
    sa.Column('officials_sso_only', sa.Boolean(), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['unit_code'], ['units.code'], name=op.f('fk_sso_unit_policies_unit_code_units'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_sso_unit_policies_updated_by_id_users'),
                            ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('unit_code', name=op.f('pk_sso_unit_policies'))
    )


def downgrade() -> None:
    op.drop_table('sso_unit_policies')
