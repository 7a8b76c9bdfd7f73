"""billing profiles of members and customers, and members' self-billing agreements (issue 24)

Revision ID: i24_profiles
Revises: i24_tax
Create Date: 2026-12-08 09:00:00.000000

Who invoices and credit notes are addressed to: `member_billing_profiles` and
`customer_billing_profiles` (one row per member or customer, written whole), and
`self_billing_agreements` (every decision of a member on self-billing; the newest counts).
"""

import sqlalchemy as sa
from alembic import op

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

# revision identifiers, used by Alembic.
revision = "i24_profiles"
down_revision = "i24_tax"
branch_labels = None
depends_on = None

# DE, AT, CH and the rest of the EU (customers.models.BILLING_COUNTRIES when this was written).
CUSTOMER_COUNTRIES = (
    "AT", "BE", "BG", "CH", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU",
    "IE", "IT", "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK",
)  # fmt: skip


def _address():
    return [
        sa.Column("street", sa.String(length=200), nullable=False),
        sa.Column("postcode", sa.String(length=10), nullable=False),
        sa.Column("city", sa.String(length=120), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
    ]


def upgrade():
    op.create_table(
        "member_billing_profiles",
        sa.Column("member_id", BigId, nullable=False),
        sa.Column("legal_name", sa.String(length=200), nullable=False),
        *_address(),
        sa.Column("vat_id", sa.String(length=40), nullable=True),
        sa.Column("tax_number", sa.String(length=40), nullable=True),
        sa.Column("small_business", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "country IN ('DE', 'AT', 'CH')", name=op.f("ck_member_billing_profiles_country_known")
        ),
        sa.CheckConstraint(
            "small_business OR vat_id IS NOT NULL OR tax_number IS NOT NULL",
            name=op.f("ck_member_billing_profiles_tax_id_unless_small_business"),
        ),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_member_billing_profiles_member_id_members")
        ),
        sa.PrimaryKeyConstraint("member_id", name=op.f("pk_member_billing_profiles")),
    )
    countries = ", ".join(f"'{c}'" for c in CUSTOMER_COUNTRIES)
    op.create_table(
        "customer_billing_profiles",
        sa.Column("customer_id", BigId, nullable=False),
        sa.Column("legal_name", sa.String(length=200), nullable=True),
        *_address(),
        sa.Column("vat_id", sa.String(length=40), nullable=True),
        sa.Column("buyer_reference", sa.String(length=100), nullable=True),
        sa.Column("invoice_email", sa.String(length=254), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            f"country IN ({countries})", name=op.f("ck_customer_billing_profiles_country_known")
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_customer_billing_profiles_customer_id_customers"),
        ),
        sa.PrimaryKeyConstraint("customer_id", name=op.f("pk_customer_billing_profiles")),
    )
    op.create_table(
        "self_billing_agreements",
        sa.Column("member_id", BigId, nullable=False),
        sa.Column("agreed", sa.Boolean(), nullable=False),
        sa.Column("text_version", sa.String(length=20), nullable=False),
        sa.Column("language", sa.String(length=2), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_self_billing_agreements_member_id_members")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_self_billing_agreements")),
    )
    op.create_index(
        "ix_self_billing_agreements_member", "self_billing_agreements", ["member_id", "id"]
    )


def downgrade():
    op.drop_index("ix_self_billing_agreements_member", table_name="self_billing_agreements")
    op.drop_table("self_billing_agreements")
    op.drop_table("customer_billing_profiles")
    op.drop_table("member_billing_profiles")
