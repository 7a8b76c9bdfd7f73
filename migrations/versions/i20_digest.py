"""alert digests of community managers: one row per (user, cadence, period start)

Revision ID: i20_digest
Revises: i19_authpay
Create Date: 2026-12-06 23:10:00.000000

"""
import sqlalchemy as sa
from alembic import op

BigId = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')

# revision identifiers, used by Alembic.
revision = 'i20_digest'
down_revision = 'i19_authpay'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'staff_alert_digests',
        sa.Column('user_id', BigId, nullable=False),
        sa.Column('cadence', sa.String(length=10), nullable=False),
        sa.Column('period_start', sa.DateTime(timezone=True), nullable=False),
        sa.Column('period_end', sa.DateTime(timezone=True), nullable=False),
        sa.Column('alerts_count', sa.Integer(), nullable=False),
        sa.Column('notification_id', BigId, nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('id', BigId, autoincrement=True, nullable=False),
        sa.CheckConstraint(
            "cadence IN ('hourly', 'daily')", name=op.f('ck_staff_alert_digests_cadence_known')
        ),
        sa.CheckConstraint(
            'period_end > period_start', name=op.f('ck_staff_alert_digests_period_forward')
        ),
        sa.CheckConstraint(
            'alerts_count >= 0', name=op.f('ck_staff_alert_digests_count_not_negative')
        ),
        sa.ForeignKeyConstraint(
            ['notification_id'],
            ['notifications.id'],
            name=op.f('fk_staff_alert_digests_notification_id_notifications'),
        ),
        sa.ForeignKeyConstraint(
            ['user_id'], ['users.id'], name=op.f('fk_staff_alert_digests_user_id_users')
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_staff_alert_digests')),
        sa.UniqueConstraint(
            'user_id',
            'cadence',
            'period_start',
            name=op.f('uq_staff_alert_digests_user_id_cadence_period_start'),
        ),
    )
    op.create_index(
        'ix_staff_alert_digests_user_end', 'staff_alert_digests', ['user_id', 'period_end']
    )


def downgrade():
    op.drop_index('ix_staff_alert_digests_user_end', table_name='staff_alert_digests')
    op.drop_table('staff_alert_digests')
