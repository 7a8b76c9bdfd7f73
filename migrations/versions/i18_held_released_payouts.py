"""held payouts are released by the later payout that paid their money out

Revision ID: i18_held
Revises: i16_money
Create Date: 2026-12-06 20:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'i18_held'
down_revision = 'i16_money'
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade():
    with op.batch_alter_table('payouts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('released_by_id', BigId, nullable=True))
        batch_op.add_column(sa.Column('released_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f('fk_payouts_released_by_id_payouts'), 'payouts', ['released_by_id'], ['id']
        )
        batch_op.drop_constraint(batch_op.f('ck_payouts_status_known'), type_='check')
        batch_op.drop_constraint(batch_op.f('ck_payouts_held_has_reason'), type_='check')
        batch_op.create_check_constraint(
            batch_op.f('ck_payouts_status_known'),
            "status IN ('pending', 'in_transit', 'paid', 'failed', 'held', 'released')",
        )
        batch_op.create_check_constraint(
            batch_op.f('ck_payouts_held_has_reason'),
            "(status IN ('held', 'released')) = (hold_reason IS NOT NULL)",
        )
        batch_op.create_check_constraint(
            batch_op.f('ck_payouts_released_by_a_payout'),
            "(status = 'released') = (released_by_id IS NOT NULL)",
        )


def downgrade():
    op.execute(
        "UPDATE payouts SET status = 'held', released_by_id = NULL, released_at = NULL "
        "WHERE status = 'released'"
    )
    with op.batch_alter_table('payouts', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_payouts_released_by_a_payout'), type_='check')
        batch_op.drop_constraint(batch_op.f('ck_payouts_held_has_reason'), type_='check')
        batch_op.drop_constraint(batch_op.f('ck_payouts_status_known'), type_='check')
        batch_op.create_check_constraint(
            batch_op.f('ck_payouts_status_known'),
            "status IN ('pending', 'in_transit', 'paid', 'failed', 'held')",
        )
        batch_op.create_check_constraint(
            batch_op.f('ck_payouts_held_has_reason'), "(status = 'held') = (hold_reason IS NOT NULL)"
        )
        batch_op.drop_constraint(batch_op.f('fk_payouts_released_by_id_payouts'), type_='foreignkey')
        batch_op.drop_column('released_at')
        batch_op.drop_column('released_by_id')
