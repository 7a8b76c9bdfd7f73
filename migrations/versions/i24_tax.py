"""tax rates as data: VAT per country, category and period, seeded with DE, AT and CH

Revision ID: i24_tax
Revises: i23_ledger2
Create Date: 2026-12-08 10:00:00.000000

The seeded rates are a frozen copy of the law as it stood when this revision was written
(invoicing.tax_rates.DEFAULT_RATES holds the same rows for the tests' reset); later changes
are new rows added through POST /api/v1/tax-rates, never edits here.

- DE (§12 UStG): 19 % / 7 % since 2007-01-01, lowered to 16 % / 5 % from 2020-07-01 to
  2020-12-31 (Zweites Corona-Steuerhilfegesetz), so three periods each.
- AT (§10 UStG 1994): 20 % / 10 % since 2016-01-01 (the 13 % rate is not needed here).
- CH (Art. 25 MWSTG): 7.7 % / 2.5 % from 2018-01-01 to 2023-12-31, 8.1 % / 2.6 % since
  2024-01-01 (the special rate for lodging is not needed here).

On PostgreSQL an exclusion constraint (btree_gist) keeps the periods of one country and
category apart; elsewhere the service's check alone does (invoicing.tax_rates.add_rate).
"""

from datetime import UTC, date, datetime

import sqlalchemy as sa
from alembic import op

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

# revision identifiers, used by Alembic.
revision = "i24_tax"
down_revision = "i23_ledger2"
branch_labels = None
depends_on = None

# (country, category, rate_bp, valid_from, valid_until)
RATES = (
    ("DE", "standard", 1900, date(2007, 1, 1), date(2020, 6, 30)),
    ("DE", "standard", 1600, date(2020, 7, 1), date(2020, 12, 31)),
    ("DE", "standard", 1900, date(2021, 1, 1), None),
    ("DE", "reduced", 700, date(2007, 1, 1), date(2020, 6, 30)),
    ("DE", "reduced", 500, date(2020, 7, 1), date(2020, 12, 31)),
    ("DE", "reduced", 700, date(2021, 1, 1), None),
    ("AT", "standard", 2000, date(2016, 1, 1), None),
    ("AT", "reduced", 1000, date(2016, 1, 1), None),
    ("CH", "standard", 770, date(2018, 1, 1), date(2023, 12, 31)),
    ("CH", "standard", 810, date(2024, 1, 1), None),
    ("CH", "reduced", 250, date(2018, 1, 1), date(2023, 12, 31)),
    ("CH", "reduced", 260, date(2024, 1, 1), None),
)

NO_OVERLAP = (
    "ALTER TABLE tax_rates ADD CONSTRAINT ex_tax_rates_no_overlap EXCLUDE USING gist "
    "(country WITH =, category WITH =, daterange(valid_from, valid_until, '[]') WITH &&)"
)


def upgrade():
    table = op.create_table(
        "tax_rates",
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("category", sa.String(length=20), nullable=False),
        sa.Column("rate_bp", sa.Integer(), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by_user_id", BigId, nullable=True),
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.CheckConstraint(
            "category IN ('standard', 'reduced')", name=op.f("ck_tax_rates_category_known")
        ),
        sa.CheckConstraint("rate_bp BETWEEN 0 AND 10000", name=op.f("ck_tax_rates_rate_range")),
        sa.CheckConstraint("length(country) = 2", name=op.f("ck_tax_rates_country_code")),
        sa.CheckConstraint(
            "valid_until IS NULL OR valid_until >= valid_from",
            name=op.f("ck_tax_rates_period_ordered"),
        ),
        sa.ForeignKeyConstraint(
            ["created_by_user_id"],
            ["users.id"],
            name=op.f("fk_tax_rates_created_by_user_id_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tax_rates")),
    )
    op.create_index(
        "ix_tax_rates_country_category_from", "tax_rates", ["country", "category", "valid_from"]
    )
    postgres = op.get_bind().dialect.name == "postgresql"
    if postgres:
        op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
        op.execute(NO_OVERLAP)
    seeded_at = datetime.now(UTC)
    if not postgres:
        seeded_at = seeded_at.replace(tzinfo=None)  # SQLite keeps UTC naive (UTCDateTime)
    op.bulk_insert(
        table,
        [
            {
                "country": country,
                "category": category,
                "rate_bp": rate_bp,
                "valid_from": valid_from,
                "valid_until": valid_until,
                "created_at": seeded_at,
            }
            for country, category, rate_bp, valid_from, valid_until in RATES
        ],
    )


def downgrade():
    op.drop_index("ix_tax_rates_country_category_from", table_name="tax_rates")
    op.drop_table("tax_rates")
