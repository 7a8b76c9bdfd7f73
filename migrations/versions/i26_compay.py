"""payouts: provider companies are paid — a company's plan, the company a job's settlement
credited, company payout accounts, payouts and monthly fees (a member's or a company's,
never both)

Revision ID: i26_compay
Revises: i26_compchk
Create Date: 2026-12-07 19:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

# revision identifiers, used by Alembic.
revision = "i26_compay"
down_revision = "i26_compchk"
branch_labels = None
depends_on = None

PAYMENT_FK = "fk_job_payments_organisation_id_organisations"
PAYMENT_INDEX = "ix_job_payments_organisation_id"


def upgrade():
    op.create_table(
        "organisation_plans",
        sa.Column("organisation_id", BigId, nullable=False),
        sa.Column("plan_id", BigId, nullable=False),
        sa.Column("assigned_by_id", BigId, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", BigId, nullable=False),
        sa.ForeignKeyConstraint(
            ["assigned_by_id"],
            ["users.id"],
            name=op.f("fk_organisation_plans_assigned_by_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_organisation_plans_organisation_id_organisations"),
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["commission_plans.id"],
            name=op.f("fk_organisation_plans_plan_id_commission_plans"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_organisation_plans")),
        sa.UniqueConstraint("organisation_id", name=op.f("uq_organisation_plans_organisation_id")),
    )
    op.create_index(op.f("ix_organisation_plans_plan_id"), "organisation_plans", ["plan_id"])
    if op.get_bind().dialect.name == "sqlite":
        # A plain ADD COLUMN: job_payments is large and busy, no need to rebuild it.
        op.execute(
            "ALTER TABLE job_payments ADD COLUMN organisation_id INTEGER "
            f"CONSTRAINT {PAYMENT_FK} REFERENCES organisations (id)"
        )
    else:
        op.add_column("job_payments", sa.Column("organisation_id", BigId, nullable=True))
        op.create_foreign_key(
            PAYMENT_FK, "job_payments", "organisations", ["organisation_id"], ["id"]
        )
    op.create_index(PAYMENT_INDEX, "job_payments", ["organisation_id"], unique=False)
    # connected_accounts and payouts carry no triggers: batch mode may rebuild them on SQLite.
    with op.batch_alter_table("connected_accounts") as batch:
        batch.add_column(sa.Column("organisation_id", BigId, nullable=True))
        batch.alter_column("member_id", existing_type=BigId, nullable=True)
        batch.create_foreign_key(
            batch.f("fk_connected_accounts_organisation_id_organisations"),
            "organisations",
            ["organisation_id"],
            ["id"],
        )
        batch.create_unique_constraint(
            batch.f("uq_connected_accounts_organisation_id"), ["organisation_id"]
        )
        batch.create_check_constraint(
            batch.f("ck_connected_accounts_one_owner"),
            "(member_id IS NULL) <> (organisation_id IS NULL)",
        )
    with op.batch_alter_table("payouts") as batch:
        batch.add_column(sa.Column("organisation_id", BigId, nullable=True))
        batch.alter_column("member_id", existing_type=BigId, nullable=True)
        batch.create_foreign_key(
            batch.f("fk_payouts_organisation_id_organisations"),
            "organisations",
            ["organisation_id"],
            ["id"],
        )
        batch.create_check_constraint(
            batch.f("ck_payouts_one_payee"), "(member_id IS NULL) <> (organisation_id IS NULL)"
        )
    op.create_index("ix_payouts_organisation_id", "payouts", ["organisation_id", "id"])
    with op.batch_alter_table("monthly_fees") as batch:
        batch.add_column(sa.Column("organisation_id", BigId, nullable=True))
        batch.alter_column("member_id", existing_type=BigId, nullable=True)
        batch.create_foreign_key(
            batch.f("fk_monthly_fees_organisation_id_organisations"),
            "organisations",
            ["organisation_id"],
            ["id"],
        )
        batch.create_unique_constraint(
            "uq_monthly_fees_organisation_period", ["organisation_id", "period"]
        )
        batch.create_check_constraint(
            batch.f("ck_monthly_fees_one_payer"),
            "(member_id IS NULL) <> (organisation_id IS NULL)",
        )


def downgrade():
    op.execute("DELETE FROM monthly_fees WHERE organisation_id IS NOT NULL")
    with op.batch_alter_table("monthly_fees") as batch:
        batch.drop_constraint(batch.f("ck_monthly_fees_one_payer"), type_="check")
        batch.drop_constraint("uq_monthly_fees_organisation_period", type_="unique")
        batch.drop_constraint(
            batch.f("fk_monthly_fees_organisation_id_organisations"), type_="foreignkey"
        )
        batch.drop_column("organisation_id")
        batch.alter_column("member_id", existing_type=BigId, nullable=False)
    op.drop_index("ix_payouts_organisation_id", table_name="payouts")
    op.execute("DELETE FROM payouts WHERE organisation_id IS NOT NULL")
    with op.batch_alter_table("payouts") as batch:
        batch.drop_constraint(batch.f("ck_payouts_one_payee"), type_="check")
        batch.drop_constraint(
            batch.f("fk_payouts_organisation_id_organisations"), type_="foreignkey"
        )
        batch.drop_column("organisation_id")
        batch.alter_column("member_id", existing_type=BigId, nullable=False)
    op.execute("DELETE FROM connected_accounts WHERE organisation_id IS NOT NULL")
    with op.batch_alter_table("connected_accounts") as batch:
        batch.drop_constraint(batch.f("ck_connected_accounts_one_owner"), type_="check")
        batch.drop_constraint(batch.f("uq_connected_accounts_organisation_id"), type_="unique")
        batch.drop_constraint(
            batch.f("fk_connected_accounts_organisation_id_organisations"), type_="foreignkey"
        )
        batch.drop_column("organisation_id")
        batch.alter_column("member_id", existing_type=BigId, nullable=False)
    op.drop_index(PAYMENT_INDEX, table_name="job_payments")
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE job_payments DROP COLUMN organisation_id")
    else:
        op.drop_constraint(PAYMENT_FK, "job_payments", type_="foreignkey")
        op.drop_column("job_payments", "organisation_id")
    op.drop_index(op.f("ix_organisation_plans_plan_id"), table_name="organisation_plans")
    op.drop_table("organisation_plans")
