"""admins' setting overrides; what a staff change did, in the audit log

Revision ID: i18_settings
Revises: i18_ops
Create Date: 2026-12-08 10:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'i18_settings'
down_revision = 'i18_ops'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('setting_overrides',
    sa.Column('key', sa.String(length=80), nullable=False),
    sa.Column('value', sa.JSON(), nullable=False),
    sa.Column('changed_by_user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['changed_by_user_id'], ['users.id'], name=op.f('fk_setting_overrides_changed_by_user_id_users')),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_setting_overrides'))
    )
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.add_column(sa.Column('changes', sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_column('changes')

    op.drop_table('setting_overrides')
