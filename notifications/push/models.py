"""A user's registered mobile devices, and the offline provider's outbox of pushes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from crowd.core.db import Base, BigId, IdMixin, UTCDateTime, utcnow

PLATFORMS = ("ios", "android")
# Why a device stopped receiving: the provider said its token is dead, a newer device of the
# same user took its place (a user has at most MAX_ACTIVE_DEVICES), or the account was closed.
RETIRED_REASONS = ("unregistered", "invalid_token", "sender_mismatch", "replaced", "signed_out")


class Device(IdMixin, Base):
    """A device token of the mobile app; it belongs to one user at a time."""

    __tablename__ = "devices"
    __table_args__ = (
        CheckConstraint("platform IN ('ios', 'android')", name="platform_known"),
        CheckConstraint(
            "(retired_at IS NULL) = (retired_reason IS NULL)", name="retired_with_reason"
        ),
        Index("ix_devices_user_active", "user_id", "retired_at"),
    )

    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"), nullable=False)
    platform: Mapped[str] = mapped_column(String(10), nullable=False)
    token: Mapped[str] = mapped_column(String(1024), nullable=False, unique=True)
    app_version: Mapped[str] = mapped_column(String(40), nullable=False)
    locale: Mapped[str] = mapped_column(String(20), nullable=False)
    name: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    retired_reason: Mapped[str | None] = mapped_column(String(40))

    @property
    def active(self) -> bool:
        return self.retired_at is None


class PushOutboxEntry(IdMixin, Base):
    """What the offline provider would have sent to one device (the embedded default)."""

    __tablename__ = "push_outbox"
    __table_args__ = (Index("ix_push_outbox_user", "user_id", "id"),)

    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"), nullable=False)
    device_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("devices.id", ondelete="SET NULL"), index=True
    )
    platform: Mapped[str] = mapped_column(String(10), nullable=False)
    # The end of the token only: enough to tell devices apart, useless to send with.
    token_tail: Mapped[str] = mapped_column(String(12), nullable=False)
    kind: Mapped[str] = mapped_column(String(60), nullable=False)
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    body: Mapped[str] = mapped_column(Text, nullable=False)
    data: Mapped[dict] = mapped_column(JSON, nullable=False, default=dict)
    badge: Mapped[int | None] = mapped_column(Integer)
    collapse_key: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
