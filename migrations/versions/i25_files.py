"""files: stored_files (uploads and their checked content) and the member's profile photo

Revision ID: i25_files
Revises: i24_documents
Create Date: 2026-12-07 15:40:00.000000
"""

import sqlalchemy as sa
from alembic import op

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

# revision identifiers, used by Alembic.
revision = "i25_files"
down_revision = "i24_documents"
branch_labels = None
depends_on = None

FK = "fk_members_profile_photo_file_id_stored_files"


def upgrade():
    op.create_table(
        "stored_files",
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("owner_user_id", BigId, nullable=False),
        sa.Column("purpose", sa.String(length=40), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=True),
        sa.Column("size", sa.Integer(), nullable=True),
        sa.Column("sha256", sa.String(length=64), nullable=True),
        sa.Column("width", sa.Integer(), nullable=True),
        sa.Column("height", sa.Integer(), nullable=True),
        sa.Column("thumbnail_key", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", BigId, nullable=False),
        sa.CheckConstraint(
            "purpose IN ('profile_photo')", name=op.f("ck_stored_files_purpose_known")
        ),
        sa.CheckConstraint(
            "status IN ('pending', 'ready', 'rejected', 'deleted')",
            name=op.f("ck_stored_files_status_known"),
        ),
        sa.CheckConstraint(
            "size IS NULL OR size >= 0", name=op.f("ck_stored_files_size_not_negative")
        ),
        sa.ForeignKeyConstraint(
            ["owner_user_id"], ["users.id"], name=op.f("fk_stored_files_owner_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stored_files")),
        sa.UniqueConstraint("key", name=op.f("uq_stored_files_key")),
    )
    op.create_index(
        op.f("ix_stored_files_owner_user_id"), "stored_files", ["owner_user_id"], unique=False
    )
    if op.get_bind().dialect.name == "sqlite":
        # A plain ADD COLUMN: batch mode would rebuild `members` and lose its trigger (i23_reach).
        op.execute(
            "ALTER TABLE members ADD COLUMN profile_photo_file_id INTEGER "
            f"CONSTRAINT {FK} REFERENCES stored_files (id)"
        )
    else:
        op.add_column("members", sa.Column("profile_photo_file_id", BigId, nullable=True))
        op.create_foreign_key(FK, "members", "stored_files", ["profile_photo_file_id"], ["id"])


def downgrade():
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE members DROP COLUMN profile_photo_file_id")
    else:
        op.drop_constraint(FK, "members", type_="foreignkey")
        op.drop_column("members", "profile_photo_file_id")
    op.drop_index(op.f("ix_stored_files_owner_user_id"), table_name="stored_files")
    op.drop_table("stored_files")
