"""Insight at 100k members: indexes for the period ranges and the status history

Revision ID: i22_insix
Revises: i22_dboard
Create Date: 2026-12-07 01:45:00.000000

Crowd health and the service figures select jobs by the day they were posted, completed and
confirmed, reviews by the day they were written, and read a member's status at an instant
from the status history: without these, each is a scan of the whole table.
"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "i22_insix"
down_revision = "i22_dboard"
branch_labels = None
depends_on = None

INDEXES = (
    ("ix_jobs_created_at", "jobs", ["created_at"]),
    ("ix_jobs_completed_at", "jobs", ["completed_at"]),
    ("ix_jobs_confirmed_at", "jobs", ["confirmed_at"]),
    ("ix_reviews_created_at", "reviews", ["created_at"]),
    (
        "ix_member_status_changes_member_created",
        "member_status_changes",
        ["member_id", "created_at"],
    ),
)


def upgrade():
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns)


def downgrade():
    for name, table, _columns in reversed(INDEXES):
        op.drop_index(name, table_name=table)
