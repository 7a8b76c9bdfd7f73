"""organisations: the company's onboarding — the house rules its owner accepted for it, a
community manager's decision on its business checks; files: the insurance certificate purpose

Revision ID: i26_compchk
Revises: i26_jobsorg
Create Date: 2026-12-07 18:20:00.000000
"""

import sqlalchemy as sa
from alembic import op

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

# revision identifiers, used by Alembic.
revision = "i26_compchk"
down_revision = "i26_jobsorg"
branch_labels = None
depends_on = None

NAME = "ck_stored_files_purpose_known"
BEFORE = (
    "purpose IN ('profile_photo', 'identity_document', 'work_photo', 'signature', "
    "'ticket_attachment', 'data_export')"
)
AFTER = (
    "purpose IN ('profile_photo', 'identity_document', 'work_photo', 'signature', "
    "'ticket_attachment', 'data_export', 'insurance_certificate')"
)


def upgrade():
    with op.batch_alter_table("stored_files") as batch:
        batch.drop_constraint(batch.f(NAME), type_="check")
        batch.create_check_constraint(batch.f(NAME), AFTER)
    with op.batch_alter_table("organisations") as batch:
        batch.add_column(sa.Column("house_rules_version", sa.Integer(), nullable=True))
        batch.add_column(
            sa.Column("house_rules_accepted_at", sa.DateTime(timezone=True), nullable=True)
        )
        batch.add_column(sa.Column("house_rules_accepted_by_id", BigId, nullable=True))
        batch.add_column(sa.Column("checks_decision", sa.String(length=20), nullable=True))
        batch.add_column(sa.Column("checks_decided_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("checks_decided_by_id", BigId, nullable=True))
        batch.add_column(sa.Column("checks_note", sa.String(length=500), nullable=True))
        batch.create_foreign_key(
            batch.f("fk_organisations_house_rules_accepted_by_id_members"),
            "members",
            ["house_rules_accepted_by_id"],
            ["id"],
        )
        batch.create_foreign_key(
            batch.f("fk_organisations_checks_decided_by_id_users"),
            "users",
            ["checks_decided_by_id"],
            ["id"],
        )
        batch.create_check_constraint(
            batch.f("ck_organisations_checks_decision_known"),
            "checks_decision IN ('verified', 'rejected')",
        )
        batch.create_check_constraint(
            batch.f("ck_organisations_checks_decided_when"),
            "(checks_decision IS NULL) = (checks_decided_at IS NULL)",
        )
        batch.create_check_constraint(
            batch.f("ck_organisations_house_rules_accepted_when"),
            "(house_rules_version IS NULL) = (house_rules_accepted_at IS NULL)",
        )


def downgrade():
    with op.batch_alter_table("organisations") as batch:
        for name in ("house_rules_accepted_when", "checks_decided_when", "checks_decision_known"):
            batch.drop_constraint(batch.f(f"ck_organisations_{name}"), type_="check")
        batch.drop_constraint(
            batch.f("fk_organisations_checks_decided_by_id_users"), type_="foreignkey"
        )
        batch.drop_constraint(
            batch.f("fk_organisations_house_rules_accepted_by_id_members"), type_="foreignkey"
        )
        for column in (
            "checks_note",
            "checks_decided_by_id",
            "checks_decided_at",
            "checks_decision",
            "house_rules_accepted_by_id",
            "house_rules_accepted_at",
            "house_rules_version",
        ):
            batch.drop_column(column)
    op.execute("UPDATE organisations SET insurance_file_id = NULL")
    op.execute("DELETE FROM stored_files WHERE purpose = 'insurance_certificate'")
    with op.batch_alter_table("stored_files") as batch:
        batch.drop_constraint(batch.f(NAME), type_="check")
        batch.create_check_constraint(batch.f(NAME), BEFORE)
