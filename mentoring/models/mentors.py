"""Mentors, mentorships, their sessions (incl. shadowing a real job)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from crowd.core.db import Base, BigId, IdMixin, TimestampMixin, UTCDateTime, utcnow

__all__ = [
    "MENTORSHIP_STATUSES",
    "SESSION_KINDS",
    "MentorProfile",
    "MentorSkill",
    "Mentorship",
    "MentorshipSession",
]

MENTORSHIP_STATUSES = ("proposed", "active", "graduated", "ended")
SESSION_KINDS = ("call", "chat", "ride_along", "shadow")


class MentorProfile(TimestampMixin, Base):
    """A member's opt-in as a mentor: capacity, skills, regions, away mode."""

    __tablename__ = "mentor_profiles"
    __table_args__ = (
        CheckConstraint("capacity BETWEEN 1 AND 10", name="capacity_range"),
        CheckConstraint("max_distance_km BETWEEN 1 AND 500", name="distance_range"),
    )

    member_id: Mapped[int] = mapped_column(BigId, ForeignKey("members.id"), primary_key=True)
    opted_in: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    capacity: Mapped[int] = mapped_column(SmallInteger, nullable=False, default=2)
    # Regions: countries served (["DE", "AT"]) and how far from home for ride-alongs.
    countries: Mapped[list] = mapped_column(JSON, nullable=False, default=list)
    max_distance_km: Mapped[int] = mapped_column(Integer, nullable=False, default=50)
    # Away mode: no new mentees until then; current ones are reassigned when it is long.
    away_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    bio: Mapped[str | None] = mapped_column(Text)


class MentorSkill(Base):
    """Skills a mentor coaches (a subset of the skills they hold)."""

    __tablename__ = "mentor_skills"

    member_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("mentor_profiles.member_id"), primary_key=True
    )
    skill_id: Mapped[int] = mapped_column(BigId, ForeignKey("skills.id"), primary_key=True)


class Mentorship(IdMixin, TimestampMixin, Base):
    __tablename__ = "mentorships"
    __table_args__ = (
        CheckConstraint(
            "status IN ('proposed', 'active', 'graduated', 'ended')", name="status_known"
        ),
        CheckConstraint("mentor_id <> mentee_id", name="not_self"),
        # One mentor per mentee at a time.
        Index(
            "uq_mentorships_live_mentee",
            "mentee_id",
            unique=True,
            postgresql_where=text("status IN ('proposed', 'active')"),
            sqlite_where=text("status IN ('proposed', 'active')"),
        ),
        Index("ix_mentorships_mentor_status", "mentor_id", "status"),
    )

    mentor_id: Mapped[int] = mapped_column(BigId, ForeignKey("members.id"), nullable=False)
    mentee_id: Mapped[int] = mapped_column(BigId, ForeignKey("members.id"), nullable=False)
    status: Mapped[str] = mapped_column(String(20), nullable=False, default="proposed")
    # system (automatic matching), staff (a CM assigned), mentor (a mentor claimed the mentee)
    origin: Mapped[str] = mapped_column(String(20), nullable=False)
    created_by_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"))
    # Why this mentor: skill overlap, distance, load at the time.
    match_details: Mapped[dict] = mapped_column(JSON, nullable=False, default=dict)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    end_reason: Mapped[str | None] = mapped_column(String(500))
    graduated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # level (the mentee reached the graduation level) or record (jobs + tenure)
    graduation_cause: Mapped[str | None] = mapped_column(String(40))
    # The mentor's reward, posted once through the ledger (key mentorship-{id}-reward).
    reward_transaction_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("ledger_transactions.id")
    )


class MentorshipSession(IdMixin, Base):
    """A logged session; a shadow session attaches the mentee to one of the mentor's jobs."""

    __tablename__ = "mentorship_sessions"
    __table_args__ = (
        CheckConstraint("kind IN ('call', 'chat', 'ride_along', 'shadow')", name="kind_known"),
        CheckConstraint(
            "duration_minutes IS NULL OR duration_minutes BETWEEN 1 AND 1440",
            name="duration_range",
        ),
        CheckConstraint(
            "mentee_rating IS NULL OR mentee_rating BETWEEN 1 AND 5", name="rating_range"
        ),
        # A mentee shadows a job once.
        Index(
            "uq_mentorship_sessions_shadow_job",
            "mentorship_id",
            "job_id",
            unique=True,
            postgresql_where=text("job_id IS NOT NULL"),
            sqlite_where=text("job_id IS NOT NULL"),
        ),
    )

    mentorship_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("mentorships.id"), nullable=False, index=True
    )
    kind: Mapped[str] = mapped_column(String(20), nullable=False)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    duration_minutes: Mapped[int | None] = mapped_column(SmallInteger)
    job_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("jobs.id"), index=True)
    # The mentor's notes, and the mentee's feedback on the session.
    mentor_notes: Mapped[str | None] = mapped_column(Text)
    mentee_feedback: Mapped[str | None] = mapped_column(Text)
    mentee_rating: Mapped[int | None] = mapped_column(SmallInteger)
    logged_by_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
