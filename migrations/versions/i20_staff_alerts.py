"""alerts for community managers: their responsibilities (queue, region) and email cadence

Revision ID: i20_alerts
Revises: i19_why
Create Date: 2026-12-06 23:30:00.000000

"""
import sqlalchemy as sa
from alembic import op

BigId = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')

# revision identifiers, used by Alembic.
revision = 'i20_alerts'
down_revision = 'i19_why'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'staff_alert_settings',
        sa.Column('user_id', BigId, nullable=False),
        sa.Column('digest', sa.String(length=10), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "digest IN ('immediate', 'hourly', 'daily', 'off')",
            name=op.f('ck_staff_alert_settings_digest_known'),
        ),
        sa.ForeignKeyConstraint(
            ['user_id'], ['users.id'], name=op.f('fk_staff_alert_settings_user_id_users')
        ),
        sa.PrimaryKeyConstraint('user_id', name=op.f('pk_staff_alert_settings')),
    )
    op.create_table(
        'staff_responsibilities',
        sa.Column('user_id', BigId, nullable=False),
        sa.Column('queue', sa.String(length=20), nullable=True),
        sa.Column('country', sa.String(length=2), nullable=True),
        sa.Column('postcode_prefix', sa.String(length=10), nullable=True),
        sa.Column('id', BigId, autoincrement=True, nullable=False),
        sa.CheckConstraint(
            "queue IS NULL OR queue IN ('dispatch', 'payments', 'tickets', 'onboarding', "
            "'community')",
            name=op.f('ck_staff_responsibilities_queue_known'),
        ),
        sa.CheckConstraint(
            'queue IS NOT NULL OR country IS NOT NULL OR postcode_prefix IS NOT NULL',
            name=op.f('ck_staff_responsibilities_says_something'),
        ),
        sa.ForeignKeyConstraint(
            ['user_id'], ['users.id'], name=op.f('fk_staff_responsibilities_user_id_users')
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_staff_responsibilities')),
    )
    op.create_index(
        op.f('ix_staff_responsibilities_user_id'), 'staff_responsibilities', ['user_id']
    )


def downgrade():
    op.drop_index(op.f('ix_staff_responsibilities_user_id'), table_name='staff_responsibilities')
    op.drop_table('staff_responsibilities')
    op.drop_table('staff_alert_settings')
