"""chargebacks as mediated cases: the ticket category `chargeback`, the evidence deadline and
submission of a job payment's dispute

Revision ID: i19_chargeback
Revises: i20_delivery
Create Date: 2026-12-06 22:40:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'i19_chargeback'
down_revision = 'i20_delivery'
branch_labels = None
depends_on = None

BEFORE = "'quality_complaint', 'no_show', 'damage', 'payment', 'behaviour', 'other'"
AFTER = f"{BEFORE}, 'chargeback'"


def upgrade():
    with op.batch_alter_table('job_payments', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('dispute_evidence_due_at', sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column('dispute_evidence_submitted_at', sa.DateTime(timezone=True), nullable=True)
        )
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_tickets_category_known'), type_='check')
        batch_op.create_check_constraint(
            batch_op.f('ck_tickets_category_known'), f"category IN ({AFTER})"
        )


def downgrade():
    op.execute("UPDATE tickets SET category = 'payment' WHERE category = 'chargeback'")
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_tickets_category_known'), type_='check')
        batch_op.create_check_constraint(
            batch_op.f('ck_tickets_category_known'), f"category IN ({BEFORE})"
        )
    with op.batch_alter_table('job_payments', schema=None) as batch_op:
        batch_op.drop_column('dispute_evidence_submitted_at')
        batch_op.drop_column('dispute_evidence_due_at')
