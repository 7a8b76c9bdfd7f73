"""matching at 1,000,000 members: the prefilter's per-member probes read tiny partial indexes

Revision ID: i23_scale
Revises: i23_ledger
Create Date: 2026-12-07 05:20:00.000000

EXPLAIN ANALYZE of the prefilter for a job in Berlin at 1,000,000 members (8,496 members pass
the indexed rules): the "account open" rule probed users by primary key once per member
(8,496 index scans), and the capacity rule counted each member's active jobs through
ix_jobs_member_status with the status as a filter over all of their jobs (8,496 probes). The
disabled accounts are a handful: with ix_users_disabled the planner hashes them once (a hash
anti join) instead of probing per member; ix_jobs_member_active holds only assigned and
in-progress jobs, so the count is an index-only probe of a small index.
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "i23_scale"
down_revision = "i23_ledger"
branch_labels = None
depends_on = None

DISABLED = "disabled_at IS NOT NULL"
ACTIVE = "status IN ('assigned', 'in_progress')"


def upgrade():
    op.create_index(
        "ix_users_disabled",
        "users",
        ["id"],
        postgresql_where=sa.text(DISABLED),
        sqlite_where=sa.text(DISABLED),
    )
    op.create_index(
        "ix_jobs_member_active",
        "jobs",
        ["assigned_member_id"],
        postgresql_where=sa.text(ACTIVE),
        sqlite_where=sa.text(ACTIVE),
    )


def downgrade():
    op.drop_index("ix_jobs_member_active", table_name="jobs")
    op.drop_index("ix_users_disabled", table_name="users")
