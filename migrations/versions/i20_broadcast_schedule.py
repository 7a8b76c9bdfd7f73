"""scheduled broadcasts: a draft may be scheduled to start sending later

Revision ID: i20_schedule
Revises: i20_locale
Create Date: 2026-12-06 23:40:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'i20_schedule'
down_revision = 'i20_locale'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('broadcasts') as batch_op:
        batch_op.add_column(sa.Column('scheduled_for', sa.DateTime(timezone=True), nullable=True))
        batch_op.drop_constraint(batch_op.f('ck_broadcasts_status_known'), type_='check')
        batch_op.create_check_constraint(
            batch_op.f('ck_broadcasts_status_known'), "status IN ('draft', 'scheduled', 'sending', 'sent')"
        )
        batch_op.create_check_constraint(
            batch_op.f('ck_broadcasts_scheduled_has_time'),
            "(status = 'scheduled') = (scheduled_for IS NOT NULL)",
        )


def downgrade():
    with op.batch_alter_table('broadcasts') as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_broadcasts_scheduled_has_time'), type_='check')
        batch_op.drop_constraint(batch_op.f('ck_broadcasts_status_known'), type_='check')
        batch_op.create_check_constraint(
            batch_op.f('ck_broadcasts_status_known'), "status IN ('draft', 'sending', 'sent')"
        )
        batch_op.drop_column('scheduled_for')
