"""why a job's commission: the breakdown kept on the job's payment when it settles, and the
reason a member is on a plan as they read it

Revision ID: i19_why
Revises: i19_plans
Create Date: 2026-12-06 23:00:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'i19_why'
down_revision = 'i19_plans'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('job_payments') as batch_op:
        batch_op.add_column(sa.Column('commission_breakdown', sa.JSON(), nullable=True))
    with op.batch_alter_table('member_plans') as batch_op:
        batch_op.add_column(sa.Column('reason', sa.String(length=200), nullable=True))


def downgrade():
    with op.batch_alter_table('member_plans') as batch_op:
        batch_op.drop_column('reason')
    with op.batch_alter_table('job_payments') as batch_op:
        batch_op.drop_column('commission_breakdown')
