"""files: purposes beyond the profile photo, and where they are used: an identity check's
images, a work report's photos and signature, a ticket message's attachments (and exports)

Revision ID: i25_purposes
Revises: i25_files
Create Date: 2026-12-07 17:30:00.000000
"""

import sqlalchemy as sa
from alembic import op

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

# revision identifiers, used by Alembic.
revision = "i25_purposes"
down_revision = "i25_files"
branch_labels = None
depends_on = None

NAME = "ck_stored_files_purpose_known"
ALL = (
    "purpose IN ('profile_photo', 'identity_document', 'work_photo', 'signature', "
    "'ticket_attachment', 'data_export')"
)


CHECK_FILES = ("front_file_id", "back_file_id", "selfie_file_id")


def upgrade():
    with op.batch_alter_table("stored_files") as batch:
        batch.drop_constraint(batch.f(NAME), type_="check")
        batch.create_check_constraint(batch.f(NAME), ALL)
    with op.batch_alter_table("document_checks") as batch:
        for column in CHECK_FILES:
            batch.add_column(sa.Column(column, BigId, nullable=True))
            batch.create_foreign_key(
                batch.f(f"fk_document_checks_{column}_stored_files"),
                "stored_files",
                [column],
                ["id"],
            )
        batch.add_column(sa.Column("images_deleted_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "work_report_files",
        sa.Column("job_id", BigId, nullable=False),
        sa.Column("file_id", BigId, nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("position", sa.SmallInteger(), nullable=False),
        sa.CheckConstraint("kind IN ('photo', 'signature')", name=op.f("ck_work_report_files_kind_known")),
        sa.CheckConstraint("position >= 0", name=op.f("ck_work_report_files_position_not_negative")),
        sa.ForeignKeyConstraint(
            ["file_id"], ["stored_files.id"], name=op.f("fk_work_report_files_file_id_stored_files")
        ),
        sa.ForeignKeyConstraint(
            ["job_id"], ["work_reports.job_id"], name=op.f("fk_work_report_files_job_id_work_reports")
        ),
        sa.PrimaryKeyConstraint("job_id", "file_id", name=op.f("pk_work_report_files")),
        sa.UniqueConstraint("file_id", name=op.f("uq_work_report_files_file_id")),
    )
    op.create_table(
        "ticket_message_files",
        sa.Column("message_id", BigId, nullable=False),
        sa.Column("file_id", BigId, nullable=False),
        sa.Column("position", sa.SmallInteger(), nullable=False),
        sa.CheckConstraint(
            "position >= 0", name=op.f("ck_ticket_message_files_position_not_negative")
        ),
        sa.ForeignKeyConstraint(
            ["file_id"], ["stored_files.id"], name=op.f("fk_ticket_message_files_file_id_stored_files")
        ),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["ticket_messages.id"],
            name=op.f("fk_ticket_message_files_message_id_ticket_messages"),
        ),
        sa.PrimaryKeyConstraint("message_id", "file_id", name=op.f("pk_ticket_message_files")),
        sa.UniqueConstraint("file_id", name=op.f("uq_ticket_message_files_file_id")),
    )


def downgrade():
    op.drop_table("ticket_message_files")
    op.drop_table("work_report_files")
    with op.batch_alter_table("document_checks") as batch:
        batch.drop_column("images_deleted_at")
        for column in CHECK_FILES:
            batch.drop_constraint(
                batch.f(f"fk_document_checks_{column}_stored_files"), type_="foreignkey"
            )
            batch.drop_column(column)
    op.execute("DELETE FROM stored_files WHERE purpose <> 'profile_photo'")
    with op.batch_alter_table("stored_files") as batch:
        batch.drop_constraint(batch.f(NAME), type_="check")
        batch.create_check_constraint(batch.f(NAME), "purpose IN ('profile_photo')")
