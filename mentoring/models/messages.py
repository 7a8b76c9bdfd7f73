"""Announcements and newsletters to crowd segments, their recipients and email outbox."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from crowd.core.db import Base, BigId, IdMixin, TimestampMixin, UTCDateTime

__all__ = ["Broadcast", "BroadcastRecipient"]


class Broadcast(IdMixin, TimestampMixin, Base):
    """An announcement or newsletter by a community manager to a segment of the crowd."""

    __tablename__ = "broadcasts"
    __table_args__ = (
        CheckConstraint("kind IN ('announcement', 'newsletter')", name="kind_known"),
        CheckConstraint("status IN ('draft', 'scheduled', 'sending', 'sent')", name="status_known"),
        CheckConstraint(
            "(status = 'scheduled') = (scheduled_for IS NOT NULL)", name="scheduled_has_time"
        ),
    )

    kind: Mapped[str] = mapped_column(String(20), nullable=False)
    # The text for every recipient whose language has no translation below.
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    body: Mapped[str] = mapped_column(Text, nullable=False)
    # The text per language: {"de": {"title": …, "body": …}, "en": {…}}. A recipient reads
    # the one of their language (users.locale, else DEFAULT_LOCALE), else title and body.
    translations: Mapped[dict] = mapped_column(JSON, nullable=False, default=dict)
    # {"levels": [ranks], "skills": [slugs], "countries": [..], "cities": [..],
    #  "postcode_prefixes": [..], "programmes": ["mentor", "mentee", "top_performer"],
    #  "statuses": ["active", …]}: every given key must match (AND), values within a key OR.
    segment: Mapped[dict] = mapped_column(JSON, nullable=False)
    status: Mapped[str] = mapped_column(String(20), nullable=False, default="draft")
    created_by_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"), nullable=False)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When a scheduled broadcast starts sending (set while `scheduled`, else null).
    scheduled_for: Mapped[datetime | None] = mapped_column(UTCDateTime)
    recipients_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)


class BroadcastRecipient(Base):
    """A member the broadcast reached (frozen when sending starts) and whether they read it."""

    __tablename__ = "broadcast_recipients"
    __table_args__ = (Index("ix_broadcast_recipients_member", "member_id"),)

    broadcast_id: Mapped[int] = mapped_column(BigId, ForeignKey("broadcasts.id"), primary_key=True)
    member_id: Mapped[int] = mapped_column(BigId, ForeignKey("members.id"), primary_key=True)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
