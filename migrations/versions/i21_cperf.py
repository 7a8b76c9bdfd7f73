"""the console's pages at scale: a partial index on the jobs escalated to staff and still
waiting, read by My work and the nav's badges on every console page

Revision ID: i21_cperf
Revises: i21_people
Create Date: 2026-12-07 00:00:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'i21_cperf'
down_revision = 'i21_people'
branch_labels = None
depends_on = None

WAITING = "escalated_at IS NOT NULL AND status IN ('open', 'offered')"


def upgrade():
    op.create_index(
        'ix_jobs_escalated_waiting',
        'jobs',
        ['updated_at', 'id'],
        postgresql_where=sa.text(WAITING),
        sqlite_where=sa.text(WAITING),
    )


def downgrade():
    op.drop_index('ix_jobs_escalated_waiting', table_name='jobs')
