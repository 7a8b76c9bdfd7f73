"""Onboarding queue at 100k members: partial indexes on what is under way

Revision ID: i22_obfast
Revises: i22_insix
Create Date: 2026-12-07 03:10:00.000000

The review queue reads the few applications under way among ~95,000 decided ones, oldest
first, and its step predicates look for a verified document check and a passed intro call:
partial indexes hold just those rows.
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "i22_obfast"
down_revision = "i22_insix"
branch_labels = None
depends_on = None

INDEXES = (
    ("ix_applications_in_progress", "applications", ["id", "member_id"], "status = 'in_progress'"),
    (
        "ix_document_checks_member_verified",
        "document_checks",
        ["member_id", "kind", "expires_on"],
        "status = 'verified'",
    ),
    ("ix_intro_calls_application_passed", "intro_calls", ["application_id"], "status = 'passed'"),
)


def upgrade():
    for name, table, columns, where in INDEXES:
        op.create_index(
            name, table, columns, postgresql_where=sa.text(where), sqlite_where=sa.text(where)
        )


def downgrade():
    for name, table, _columns, _where in reversed(INDEXES):
        op.drop_index(name, table_name=table)
