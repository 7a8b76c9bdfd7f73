"""Events the crowd represents the platform at, and invitations with RSVP and attendance."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from crowd.core.db import Base, BigId, IdMixin, TimestampMixin, UTCDateTime, utcnow

__all__ = ["EVENT_KINDS", "INVITATION_STATUSES", "Event", "EventInvitation"]

EVENT_KINDS = ("trade_fair", "meetup", "training")
INVITATION_STATUSES = ("eligible", "invited", "accepted", "declined", "attended", "no_show")


class Event(IdMixin, TimestampMixin, Base):
    __tablename__ = "events"
    __table_args__ = (
        CheckConstraint("kind IN ('trade_fair', 'meetup', 'training')", name="kind_known"),
        CheckConstraint(
            "status IN ('draft', 'published', 'cancelled', 'done')", name="status_known"
        ),
        CheckConstraint("capacity BETWEEN 1 AND 10000", name="capacity_range"),
        CheckConstraint("starts_at < ends_at", name="ordered"),
    )

    kind: Mapped[str] = mapped_column(String(20), nullable=False)
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    description: Mapped[str | None] = mapped_column(Text)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, index=True)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    venue: Mapped[str] = mapped_column(String(200), nullable=False)
    city: Mapped[str] = mapped_column(String(120), nullable=False)
    country: Mapped[str] = mapped_column(String(2), nullable=False)
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    # Accepted invitations never exceed it.
    capacity: Mapped[int] = mapped_column(Integer, nullable=False)
    status: Mapped[str] = mapped_column(String(20), nullable=False, default="draft")
    created_by_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"), nullable=False)


class EventInvitation(IdMixin, Base):
    __tablename__ = "event_invitations"
    __table_args__ = (
        UniqueConstraint("event_id", "member_id"),
        CheckConstraint(
            "status IN ('eligible', 'invited', 'accepted', 'declined', 'attended', 'no_show')",
            name="status_known",
        ),
        Index("ix_event_invitations_member", "member_id", "status"),
    )

    event_id: Mapped[int] = mapped_column(BigId, ForeignKey("events.id"), nullable=False)
    member_id: Mapped[int] = mapped_column(BigId, ForeignKey("members.id"), nullable=False)
    status: Mapped[str] = mapped_column(String(20), nullable=False, default="eligible")
    # Why the member qualifies: top_performer, mentor (or both).
    qualifies_as: Mapped[str] = mapped_column(String(60), nullable=False)
    invited_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    invited_by_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"))
    responded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attendance_marked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
