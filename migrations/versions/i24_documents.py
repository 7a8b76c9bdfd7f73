"""invoicing: issued documents (immutable) and their gapless number series

Revision ID: i24_documents
Revises: i24_profiles
Create Date: 2026-12-07 14:06:15.031643

A document row is never changed or deleted once issued: a trigger refuses UPDATE and DELETE on
both engines (a correction document refers to it instead). Numbers come from
document_counters, advanced under the row's lock in the transaction that issues (gapless).
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "i24_documents"
down_revision = "i24_profiles"
branch_labels = None
depends_on = None

POSTGRES_TRIGGER = """
CREATE FUNCTION documents_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'issued documents are immutable: correct them with a correction document'
        USING ERRCODE = 'restrict_violation';
END $$;

CREATE TRIGGER documents_immutable BEFORE UPDATE OR DELETE ON documents
    FOR EACH ROW EXECUTE FUNCTION documents_immutable();
"""
SQLITE_TRIGGERS = (
    "CREATE TRIGGER documents_no_update BEFORE UPDATE ON documents BEGIN "
    "SELECT RAISE(ABORT, 'issued documents are immutable: correct them with a correction "
    "document'); END",
    "CREATE TRIGGER documents_no_delete BEFORE DELETE ON documents BEGIN "
    "SELECT RAISE(ABORT, 'issued documents are immutable: correct them with a correction "
    "document'); END",
)


def upgrade():
    op.create_table(
        "document_counters",
        sa.Column("series", sa.String(length=40), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("last_number", sa.Integer(), nullable=False),
        sa.CheckConstraint("last_number >= 0", name=op.f("ck_document_counters_last_not_negative")),
        sa.PrimaryKeyConstraint("series", "year", name=op.f("pk_document_counters")),
    )
    op.create_table(
        "documents",
        sa.Column("number", sa.String(length=60), nullable=False),
        sa.Column("series", sa.String(length=40), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("source_key", sa.String(length=120), nullable=False),
        sa.Column("recipient_type", sa.String(length=10), nullable=False),
        sa.Column(
            "customer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("member_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("job_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column(
            "corrects_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column(
            "ledger_transaction_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=True,
        ),
        sa.Column("on_behalf_of_member", sa.Boolean(), nullable=False),
        sa.Column("language", sa.String(length=2), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("scheme", sa.String(length=20), nullable=False),
        sa.Column("net_total", sa.BigInteger(), nullable=False),
        sa.Column("vat_total", sa.BigInteger(), nullable=False),
        sa.Column("gross_total", sa.BigInteger(), nullable=False),
        sa.Column("issue_date", sa.Date(), nullable=False),
        sa.Column("service_date", sa.Date(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("pdf", sa.LargeBinary(), nullable=False),
        sa.Column("pdf_sha256", sa.String(length=64), nullable=False),
        sa.Column("xml", sa.LargeBinary(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.CheckConstraint(
            "(kind = 'correction') = (corrects_id IS NOT NULL)",
            name=op.f("ck_documents_correction_refers"),
        ),
        sa.CheckConstraint("currency IN ('EUR', 'CHF')", name=op.f("ck_documents_currency_known")),
        sa.CheckConstraint(
            "kind IN ('invoice', 'self_billing_credit', 'fee_invoice', 'correction')",
            name=op.f("ck_documents_kind_known"),
        ),
        sa.CheckConstraint("language IN ('de', 'en')", name=op.f("ck_documents_language_known")),
        sa.CheckConstraint(
            "recipient_type IN ('customer', 'member')", name=op.f("ck_documents_recipient_known")
        ),
        sa.CheckConstraint(
            "scheme IN ('standard', 'small_business', 'reverse_charge')",
            name=op.f("ck_documents_scheme_known"),
        ),
        sa.CheckConstraint(
            "net_total + vat_total = gross_total", name=op.f("ck_documents_totals_add_up")
        ),
        sa.CheckConstraint("sequence >= 1", name=op.f("ck_documents_sequence_positive")),
        sa.ForeignKeyConstraint(
            ["corrects_id"], ["documents.id"], name=op.f("fk_documents_corrects_id_documents")
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_documents_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(["job_id"], ["jobs.id"], name=op.f("fk_documents_job_id_jobs")),
        sa.ForeignKeyConstraint(
            ["ledger_transaction_id"],
            ["ledger_transactions.id"],
            name=op.f("fk_documents_ledger_transaction_id_ledger_transactions"),
        ),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_documents_member_id_members")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_documents")),
        sa.UniqueConstraint("number", name=op.f("uq_documents_number")),
        sa.UniqueConstraint("source_key", name=op.f("uq_documents_source_key")),
    )
    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_documents_corrects_id"), ["corrects_id"], unique=False)
        batch_op.create_index(
            "ix_documents_customer_issued", ["customer_id", "issue_date"], unique=False
        )
        batch_op.create_index("ix_documents_issue_date", ["issue_date", "id"], unique=False)
        batch_op.create_index(batch_op.f("ix_documents_job_id"), ["job_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_documents_ledger_transaction_id"),
            ["ledger_transaction_id"],
            unique=False,
        )
        batch_op.create_index(
            "ix_documents_member_issued", ["member_id", "issue_date"], unique=False
        )
        batch_op.create_index(
            "uq_documents_series_number", ["series", "year", "sequence"], unique=True
        )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(POSTGRES_TRIGGER)
    else:
        for statement in SQLITE_TRIGGERS:
            op.execute(statement)


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER documents_immutable ON documents")
        op.execute("DROP FUNCTION documents_immutable()")
    op.drop_table("documents")
    op.drop_table("document_counters")
