"""the dispatch board at scale: a partial index on the jobs waiting for a member, in the
board's order (the longest waiting first), so a page reads its rows and stops

Revision ID: i22_dboard
Revises: i22_bctr
Create Date: 2026-12-07 01:45:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "i22_dboard"
down_revision = "i22_bctr"
branch_labels = None
depends_on = None

WAITING = "status IN ('open', 'offered') AND assigned_member_id IS NULL"


def upgrade():
    op.create_index(
        "ix_jobs_board_waiting",
        "jobs",
        ["created_at", "id"],
        postgresql_where=sa.text(WAITING),
        sqlite_where=sa.text(WAITING),
    )


def downgrade():
    op.drop_index("ix_jobs_board_waiting", table_name="jobs")
