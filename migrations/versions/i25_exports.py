"""privacy: data exports (a person's request, its archive, its download and expiry)

Revision ID: i25_exports
Revises: i25_retention
Create Date: 2026-12-07 18:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

# revision identifiers, used by Alembic.
revision = "i25_exports"
down_revision = "i25_retention"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "data_exports",
        sa.Column("user_id", BigId, nullable=False),
        sa.Column("requested_by_id", BigId, nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("file_id", BigId, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ready_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("downloaded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("failed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", BigId, nullable=False),
        sa.CheckConstraint(
            "status IN ('pending', 'ready', 'downloaded', 'expired', 'failed')",
            name=op.f("ck_data_exports_status_known"),
        ),
        sa.CheckConstraint(
            "status <> 'ready' OR file_id IS NOT NULL",
            name=op.f("ck_data_exports_ready_with_file"),
        ),
        sa.ForeignKeyConstraint(
            ["file_id"], ["stored_files.id"], name=op.f("fk_data_exports_file_id_stored_files")
        ),
        sa.ForeignKeyConstraint(
            ["requested_by_id"], ["users.id"], name=op.f("fk_data_exports_requested_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_data_exports_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_data_exports")),
    )
    op.create_index("ix_data_exports_user_id", "data_exports", ["user_id", "id"], unique=False)
    op.create_index(
        "uq_data_exports_pending_user",
        "data_exports",
        ["user_id"],
        unique=True,
        postgresql_where=sa.text("status = 'pending'"),
        sqlite_where=sa.text("status = 'pending'"),
    )


def downgrade():
    op.drop_index("uq_data_exports_pending_user", table_name="data_exports")
    op.drop_index("ix_data_exports_user_id", table_name="data_exports")
    op.drop_table("data_exports")
