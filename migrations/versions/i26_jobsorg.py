"""jobs: the provider company a job's assigned member works for (organisations), set with
the assignment

Revision ID: i26_jobsorg
Revises: i26_workrule
Create Date: 2026-12-07 18:20:00.000000
"""

import sqlalchemy as sa
from alembic import op

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

# revision identifiers, used by Alembic.
revision = "i26_jobsorg"
down_revision = "i26_workrule"
branch_labels = None
depends_on = None

FK = "fk_jobs_organisation_id_organisations"
INDEX = "ix_jobs_organisation_id"


def upgrade():
    if op.get_bind().dialect.name == "sqlite":
        # A plain ADD COLUMN: batch mode would rebuild `jobs` (and lose what hangs on it).
        op.execute(
            "ALTER TABLE jobs ADD COLUMN organisation_id INTEGER "
            f"CONSTRAINT {FK} REFERENCES organisations (id)"
        )
    else:
        op.add_column("jobs", sa.Column("organisation_id", BigId, nullable=True))
        op.create_foreign_key(FK, "jobs", "organisations", ["organisation_id"], ["id"])
    op.create_index(INDEX, "jobs", ["organisation_id"], unique=False)


def downgrade():
    op.drop_index(INDEX, table_name="jobs")
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE jobs DROP COLUMN organisation_id")
    else:
        op.drop_constraint(FK, "jobs", type_="foreignkey")
        op.drop_column("jobs", "organisation_id")
