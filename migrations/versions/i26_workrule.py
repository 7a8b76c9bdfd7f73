"""privacy: a retention rule for background work — a done task's arguments (which may quote a
person, such as the address an invitation went to) are emptied after 30 days

Revision ID: i26_workrule
Revises: i26_orgs
Create Date: 2026-12-07 18:10:00.000000
"""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "i26_workrule"
down_revision = "i26_orgs"
branch_labels = None
depends_on = None

RULE = {
    "kind": "background_work",
    "action": "anonymise",
    "keep_days": 30,
    "min_days": 1,
    "max_days": 365,
    "starts_from": "The background task's completion (done). Its arguments are emptied; the "
    "row stays, its dedupe key keeping the work from running twice. Failed tasks keep theirs "
    "for a retry.",
    "legal_basis": "A task's arguments may quote a person (the address an invitation is emailed "
    "to); once the work is done they serve nothing (Art. 5(1)(c) and (e) GDPR).",
}


def upgrade():
    rules = sa.table(
        "retention_rules",
        *(sa.column(name) for name in (*RULE, "updated_at")),
    )
    op.bulk_insert(rules, [RULE | {"updated_at": datetime.now(UTC)}])


def downgrade():
    op.execute("DELETE FROM retention_rules WHERE kind = 'background_work'")
