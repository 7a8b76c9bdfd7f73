"""provider event times on payouts and job payments; one requested payout run

Revision ID: i16_money
Revises: i16_account
Create Date: 2026-12-06 17:40:21.509846

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'i16_money'
down_revision = 'i16_account'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('job_payments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('provider_event_at', sa.DateTime(timezone=True), nullable=True))

    # Simultaneous requests could leave more than one run waiting to start; the oldest keeps
    # waiting, the others are closed as completed without payouts (carrying them out would
    # only have sent what the oldest sends), so the unique index can be built.
    op.execute(
        "UPDATE payout_runs SET status = 'completed', finished_at = CURRENT_TIMESTAMP "
        "WHERE status = 'requested' AND id <> "
        "(SELECT min(id) FROM payout_runs WHERE status = 'requested')"
    )
    with op.batch_alter_table('payout_runs', schema=None) as batch_op:
        batch_op.create_index('uq_payout_runs_one_requested', ['status'], unique=True, postgresql_where=sa.text("status = 'requested'"), sqlite_where=sa.text("status = 'requested'"))

    with op.batch_alter_table('payouts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('bank_event_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('bank_returns', sa.Integer(), server_default='0', nullable=False))


def downgrade():
    with op.batch_alter_table('payouts', schema=None) as batch_op:
        batch_op.drop_column('bank_returns')
        batch_op.drop_column('bank_event_at')

    with op.batch_alter_table('payout_runs', schema=None) as batch_op:
        batch_op.drop_index('uq_payout_runs_one_requested', postgresql_where=sa.text("status = 'requested'"), sqlite_where=sa.text("status = 'requested'"))

    with op.batch_alter_table('job_payments', schema=None) as batch_op:
        batch_op.drop_column('provider_event_at')
