"""no work without an authorised payment: 3-D Secure (next action, client secret), renewed
holds (expiry, the superseded intent), customers invoiced by agreement (billing, terms)

Revision ID: i19_authpay
Revises: i19_chargeback
Create Date: 2026-12-09 12:00:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'i19_authpay'
down_revision = 'i19_chargeback'
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
UTC = sa.DateTime(timezone=True)
STATUSES = (
    "'pending', 'requires_payment_method', 'requires_action', 'authorized', {}'captured', "
    "'partially_refunded', 'refunded', 'failed', 'cancelled'"
)


def upgrade():
    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('billing', sa.String(length=10), server_default='card', nullable=False)
        )
        batch_op.add_column(sa.Column('payment_terms_days', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('billing_set_by_user_id', BigId, nullable=True))
        batch_op.add_column(sa.Column('billing_set_at', UTC, nullable=True))
        batch_op.create_check_constraint(
            batch_op.f('ck_customers_billing_known'), "billing IN ('card', 'invoice')"
        )
        batch_op.create_check_constraint(
            batch_op.f('ck_customers_terms_with_invoice'),
            "(billing = 'invoice') = (payment_terms_days IS NOT NULL)",
        )
        batch_op.create_check_constraint(
            batch_op.f('ck_customers_terms_range'),
            "payment_terms_days IS NULL OR payment_terms_days BETWEEN 1 AND 120",
        )
    with op.batch_alter_table('job_payments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('next_action_type', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('client_secret', sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column('authorization_expires_at', UTC, nullable=True))
        batch_op.add_column(
            sa.Column('superseded_payment_id', sa.String(length=255), nullable=True)
        )
        batch_op.add_column(sa.Column('invoice_due_at', UTC, nullable=True))
        batch_op.create_index(
            batch_op.f('ix_job_payments_authorization_expires_at'),
            ['authorization_expires_at'],
            unique=False,
        )
        batch_op.drop_constraint(batch_op.f('ck_job_payments_status_known'), type_='check')
        batch_op.create_check_constraint(
            batch_op.f('ck_job_payments_status_known'),
            f"status IN ({STATUSES.format(repr('invoiced') + ', ')})",
        )
    # Holds made before this revision lapse 7 days after they were authorised.
    op.execute(
        "UPDATE job_payments SET authorization_expires_at = authorized_at + INTERVAL '7 days' "
        "WHERE status = 'authorized'"
        if op.get_bind().dialect.name == 'postgresql'
        else "UPDATE job_payments SET authorization_expires_at = "
        "datetime(authorized_at, '+7 days') WHERE status = 'authorized'"
    )
    with op.batch_alter_table('offline_payments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('client_secret', sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column('last_error_code', sa.String(length=100), nullable=True))
        batch_op.alter_column(
            'status',
            existing_type=sa.String(length=20),
            type_=sa.String(length=30),
            existing_nullable=False,
        )
        batch_op.drop_constraint(batch_op.f('ck_offline_payments_status_known'), type_='check')
        batch_op.create_check_constraint(
            batch_op.f('ck_offline_payments_status_known'),
            "status IN ('requires_action', 'requires_payment_method', 'requires_capture', "
            "'succeeded', 'canceled')",
        )


def downgrade():
    op.execute("UPDATE offline_payments SET status = 'canceled' WHERE status LIKE 'requires_%'")
    with op.batch_alter_table('offline_payments', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_offline_payments_status_known'), type_='check')
        batch_op.create_check_constraint(
            batch_op.f('ck_offline_payments_status_known'),
            "status IN ('requires_capture', 'succeeded', 'canceled')",
        )
        batch_op.alter_column(
            'status',
            existing_type=sa.String(length=30),
            type_=sa.String(length=20),
            existing_nullable=False,
        )
        batch_op.drop_column('last_error_code')
        batch_op.drop_column('client_secret')
    op.execute("UPDATE job_payments SET status = 'captured' WHERE status = 'invoiced'")
    with op.batch_alter_table('job_payments', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_job_payments_status_known'), type_='check')
        batch_op.create_check_constraint(
            batch_op.f('ck_job_payments_status_known'), f"status IN ({STATUSES.format('')})"
        )
        batch_op.drop_index(batch_op.f('ix_job_payments_authorization_expires_at'))
        batch_op.drop_column('invoice_due_at')
        batch_op.drop_column('superseded_payment_id')
        batch_op.drop_column('authorization_expires_at')
        batch_op.drop_column('client_secret')
        batch_op.drop_column('next_action_type')
    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_customers_terms_range'), type_='check')
        batch_op.drop_constraint(batch_op.f('ck_customers_terms_with_invoice'), type_='check')
        batch_op.drop_constraint(batch_op.f('ck_customers_billing_known'), type_='check')
        batch_op.drop_column('billing_set_at')
        batch_op.drop_column('billing_set_by_user_id')
        batch_op.drop_column('payment_terms_days')
        batch_op.drop_column('billing')
