"""privacy: retention rules (how long each kind of personal data is kept, seeded with the
platform's defaults) and the log of their enforcement runs; the indexes the runs walk

Revision ID: i25_retention
Revises: i25_purposes
Create Date: 2026-12-07 18:00:00.000000
"""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

# revision identifiers, used by Alembic.
revision = "i25_retention"
down_revision = "i25_purposes"
branch_labels = None
depends_on = None

# A frozen copy of privacy.retention.DEFAULT_RULES:
# (kind, action, keep_days, min_days, max_days, starts_from, legal_basis).
RULES = (
    (
        "identity_document_images",
        "delete",
        30,
        1,
        365,
        "The check's decision (verified or rejected). The images go; the decision, who made it "
        "and when, and the document's metadata (type, issuer, country, the last characters of "
        "its number, expiry) are kept, and images_deleted_at records the deletion.",
        "Art. 5(1)(c) and (e) GDPR (data minimisation, storage limitation): the images serve "
        "the check only; the decision is the proof of it.",
    ),
    (
        "work_report_files",
        "delete",
        120,
        30,
        3650,
        "The job's end: closed (JOBS_CLOSE_AFTER_DAYS after its confirmation, when it can no "
        "longer be disputed) or cancelled. Never while the job is disputed, its payment has an "
        "open chargeback or a ticket about it is open.",
        "Evidence for disputes and card chargebacks, which a customer's bank may raise up to "
        "120 days after the charge (Art. 6(1)(f) GDPR).",
    ),
    (
        "ticket_attachments",
        "delete",
        365,
        30,
        3650,
        "The ticket's closing (closed is final). Never while a follow-up of the ticket is open.",
        "Evidence of the mediation for follow-ups and complaints (Art. 6(1)(f) GDPR).",
    ),
    (
        "data_exports",
        "delete",
        7,
        1,
        90,
        "The export's creation.",
        "The person's copy of their data (Art. 15, 20 GDPR): kept only for its download.",
    ),
    (
        "abandoned_uploads",
        "delete",
        1,
        1,
        30,
        "The upload's start: files never confirmed (pending) or refused (rejected).",
        "Never used for anything: nothing justifies keeping them (Art. 5(1)(e) GDPR).",
    ),
    (
        "notifications",
        "delete",
        730,
        30,
        3650,
        "The inbox entry's creation; its email and push deliveries (and the emails kept by the "
        "offline provider) go with it.",
        "The inbox is a convenience, not a record: what it told of is kept where it belongs.",
    ),
    (
        "ledger_entries",
        "keep",
        3650,
        3650,
        36500,
        "The end of the calendar year of the booking.",
        "§ 147 AO, § 257 HGB: books and accounting records are kept for 10 years. Nothing is "
        "deleted before; no run deletes them (reported as kept).",
    ),
    (
        "documents",
        "keep",
        3650,
        3650,
        36500,
        "The end of the calendar year of issue.",
        "§ 14b UStG, § 147 AO: invoices, credit notes and their corrections are kept for 10 "
        "years; issued documents are immutable (a database trigger refuses their deletion). No "
        "run deletes them (reported as kept).",
    ),
)

HELD = "status <> 'deleted'"
UNFINISHED = "status IN ('pending', 'rejected')"


def upgrade():
    rules = op.create_table(
        "retention_rules",
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("action", sa.String(length=12), nullable=False),
        sa.Column("keep_days", sa.Integer(), nullable=False),
        sa.Column("min_days", sa.Integer(), nullable=False),
        sa.Column("max_days", sa.Integer(), nullable=False),
        sa.Column("starts_from", sa.Text(), nullable=False),
        sa.Column("legal_basis", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by_id", BigId, nullable=True),
        sa.CheckConstraint(
            "action IN ('delete', 'anonymise', 'keep')",
            name=op.f("ck_retention_rules_action_known"),
        ),
        sa.CheckConstraint(
            "min_days >= 0 AND min_days <= max_days",
            name=op.f("ck_retention_rules_bounds_ordered"),
        ),
        sa.CheckConstraint(
            "keep_days BETWEEN min_days AND max_days",
            name=op.f("ck_retention_rules_keep_days_in_bounds"),
        ),
        sa.ForeignKeyConstraint(
            ["updated_by_id"], ["users.id"], name=op.f("fk_retention_rules_updated_by_id_users")
        ),
        sa.PrimaryKeyConstraint("kind", name=op.f("pk_retention_rules")),
    )
    op.create_table(
        "retention_runs",
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("as_of", sa.DateTime(timezone=True), nullable=False),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("cause", sa.String(length=20), nullable=False),
        sa.Column("id", BigId, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_retention_runs")),
    )
    op.create_index(
        op.f("ix_retention_runs_started_at"), "retention_runs", ["started_at"], unique=False
    )
    op.create_index(
        "ix_stored_files_held_purpose",
        "stored_files",
        ["purpose", "id"],
        postgresql_where=sa.text(HELD),
        sqlite_where=sa.text(HELD),
    )
    op.create_index(
        "ix_stored_files_unfinished_created",
        "stored_files",
        ["created_at"],
        postgresql_where=sa.text(UNFINISHED),
        sqlite_where=sa.text(UNFINISHED),
    )
    op.create_index("ix_notifications_created_at", "notifications", ["created_at"])
    now = datetime.now(UTC)
    op.bulk_insert(
        rules,
        [
            {
                "kind": kind,
                "action": action,
                "keep_days": keep_days,
                "min_days": min_days,
                "max_days": max_days,
                "starts_from": starts_from,
                "legal_basis": legal_basis,
                "updated_at": now,
                "updated_by_id": None,
            }
            for kind, action, keep_days, min_days, max_days, starts_from, legal_basis in RULES
        ],
    )


def downgrade():
    op.drop_index("ix_notifications_created_at", table_name="notifications")
    op.drop_index("ix_stored_files_unfinished_created", table_name="stored_files")
    op.drop_index("ix_stored_files_held_purpose", table_name="stored_files")
    op.drop_index(op.f("ix_retention_runs_started_at"), table_name="retention_runs")
    op.drop_table("retention_runs")
    op.drop_table("retention_rules")
