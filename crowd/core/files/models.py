"""The `stored_files` table: one row per upload, from the presigned URL to a clean image."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from crowd.core.db import Base, BigId, IdMixin, UTCDateTime, utcnow

# What a file is for: each purpose has its checks and its reader's rule (the domain that uses
# the file authorises its downloads: members the profile photo, onboarding the identity
# documents, jobs the work report's photos and signature, support the ticket attachments,
# organisations a company's insurance certificate).
PROFILE_PHOTO = "profile_photo"
IDENTITY_DOCUMENT = "identity_document"
WORK_PHOTO = "work_photo"
SIGNATURE = "signature"
TICKET_ATTACHMENT = "ticket_attachment"
DATA_EXPORT = "data_export"
INSURANCE_CERTIFICATE = "insurance_certificate"
PURPOSES = (
    PROFILE_PHOTO,
    IDENTITY_DOCUMENT,
    WORK_PHOTO,
    SIGNATURE,
    TICKET_ATTACHMENT,
    DATA_EXPORT,
    INSURANCE_CERTIFICATE,
)
# What a client may upload (POST /files); a data export is written by the system.
UPLOAD_PURPOSES = (
    PROFILE_PHOTO,
    IDENTITY_DOCUMENT,
    WORK_PHOTO,
    SIGNATURE,
    TICKET_ATTACHMENT,
    INSURANCE_CERTIFICATE,
)
# Uploaded by crowd members only (their profile, application, work report and company).
MEMBER_PURPOSES = (PROFILE_PHOTO, IDENTITY_DOCUMENT, WORK_PHOTO, SIGNATURE, INSURANCE_CERTIFICATE)
# Accepting a PDF besides images (a receipt, an invoice, a letter attached to a ticket, a
# company's insurance certificate).
PDF_PURPOSES = (TICKET_ATTACHMENT, INSURANCE_CERTIFICATE)
# pending: the client may PUT; ready: checked and re-encoded; rejected: not what it claimed;
# deleted: its objects are gone (replaced, removed).
FILE_STATUSES = ("pending", "ready", "rejected", "deleted")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class StoredFile(IdMixin, Base):
    """An uploaded file: its storage key, owner, purpose, what its content turned out to be."""

    __tablename__ = "stored_files"
    __table_args__ = (
        CheckConstraint(_in("purpose", PURPOSES), name="purpose_known"),
        CheckConstraint(_in("status", FILE_STATUSES), name="status_known"),
        CheckConstraint("size IS NULL OR size >= 0", name="size_not_negative"),
        # Retention (privacy.enforcement) walks the files still held, by purpose and id, and
        # the uploads never finished by age: both sets stay small, whatever the history.
        Index(
            "ix_stored_files_held_purpose",
            "purpose",
            "id",
            postgresql_where=text("status <> 'deleted'"),
            sqlite_where=text("status <> 'deleted'"),
        ),
        Index(
            "ix_stored_files_unfinished_created",
            "created_at",
            postgresql_where=text("status IN ('pending', 'rejected')"),
            sqlite_where=text("status IN ('pending', 'rejected')"),
        ),
    )

    key: Mapped[str] = mapped_column(String(200), nullable=False, unique=True)
    owner_user_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("users.id"), nullable=False, index=True
    )
    purpose: Mapped[str] = mapped_column(String(40), nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="pending")
    # Detected from the content at confirmation (the client's hint only signs the upload).
    content_type: Mapped[str | None] = mapped_column(String(100))
    size: Mapped[int | None] = mapped_column(Integer)
    sha256: Mapped[str | None] = mapped_column(String(64))
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    thumbnail_key: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
