"""Privacy tables: exports — a person's request for a copy of their data, and its archive."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from crowd.core.db import Base, BigId, IdMixin, UTCDateTime, utcnow

__all__ = ["EXPORT_STATUSES", "DataExport"]

# pending: being assembled; ready: the archive waits for its one download; downloaded: fetched
# (the archive goes once the download URL has lapsed); expired: not fetched in time, the
# archive is gone; failed: it could not be assembled (ask again).
EXPORT_STATUSES = ("pending", "ready", "downloaded", "expired", "failed")


class DataExport(IdMixin, Base):
    """A person's export of their data: who asked, its archive (a stored file) and its clock."""

    __tablename__ = "data_exports"
    __table_args__ = (
        CheckConstraint(
            "status IN (" + ", ".join(f"'{status}'" for status in EXPORT_STATUSES) + ")",
            name="status_known",
        ),
        CheckConstraint("status <> 'ready' OR file_id IS NOT NULL", name="ready_with_file"),
        Index("ix_data_exports_user_id", "user_id", "id"),
        # One export in the making per person: the last line behind the service's row lock.
        Index(
            "uq_data_exports_pending_user",
            "user_id",
            unique=True,
            postgresql_where=text("status = 'pending'"),
            sqlite_where=text("status = 'pending'"),
        ),
    )

    # Whose data: the person who downloads it (an admin may ask on their behalf).
    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"), nullable=False)
    requested_by_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"), nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="pending")
    # The ZIP (crowd.core.files, purpose data_export), once assembled.
    file_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("stored_files.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    ready_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    downloaded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def current_status(self) -> str:
        """The status as of now: a ready export past its time reads as expired."""
        if self.status == "ready" and self.expires_at is not None and self.expires_at <= utcnow():
            return "expired"
        return self.status

    @property
    def requested_by(self) -> str:
        return "self" if self.requested_by_id == self.user_id else "admin"
