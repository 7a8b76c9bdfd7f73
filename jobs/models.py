"""Job orders, their time windows and skills, offers, lifecycle events, work reports, reviews."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crowd.core.db import Base, BigId, IdMixin, TimestampMixin, UTCDateTime, utcnow
from members.models import SkillCategory

JOB_STATUSES = (
    "open",
    "offered",
    "assigned",
    "in_progress",
    "completed",
    "confirmed",
    "closed",
    "cancelled",
    "disputed",
)
OFFER_STATUSES = ("pending", "accepted", "declined", "expired", "withdrawn")
CURRENCIES = ("EUR", "CHF")

# A job escalated to staff that still waits for someone (jobs.queries.UNASSIGNED).
ESCALATED_WAITING = "escalated_at IS NOT NULL AND status IN ('open', 'offered')"
# Matching counts a member's occupying jobs (jobs.matching.facts.ACTIVE_JOB_STATUSES).
MEMBER_ACTIVE = "status IN ('assigned', 'in_progress')"
# A job on the dispatch board: waiting for a member (jobs.board).
ON_BOARD = "status IN ('open', 'offered') AND assigned_member_id IS NULL"


class Job(IdMixin, TimestampMixin, Base):
    """A customer's order for work on a device at an address within one of several windows."""

    __tablename__ = "jobs"
    __table_args__ = (
        CheckConstraint(
            "status IN ('open', 'offered', 'assigned', 'in_progress', 'completed', 'confirmed', "
            "'closed', 'cancelled', 'disputed')",
            name="status_known",
        ),
        CheckConstraint("pricing IN ('fixed', 'hourly')", name="pricing_known"),
        CheckConstraint("currency IN ('EUR', 'CHF')", name="currency_known"),
        CheckConstraint("country IN ('DE', 'AT', 'CH')", name="country_known"),
        CheckConstraint("price_amount > 0", name="price_positive"),
        CheckConstraint(
            "(pricing = 'hourly') = (hourly_rate_amount IS NOT NULL)", name="hourly_rate_iff_hourly"
        ),
        CheckConstraint(
            "hourly_rate_amount IS NULL OR hourly_rate_amount > 0", name="rate_positive"
        ),
        CheckConstraint("duration_minutes BETWEEN 15 AND 1440", name="duration_range"),
        CheckConstraint("cancellation_fee_amount >= 0", name="fee_non_negative"),
        Index("ix_jobs_customer_updated", "customer_id", "updated_at", "id"),
        Index("ix_jobs_member_status", "assigned_member_id", "status"),
        # Matching's capacity rule counts each candidate's active jobs: a small index of those.
        Index(
            "ix_jobs_member_active",
            "assigned_member_id",
            postgresql_where=text(MEMBER_ACTIVE),
            sqlite_where=text(MEMBER_ACTIVE),
        ),
        Index("ix_jobs_status_updated", "status", "updated_at"),
        # Crowd health's periods: jobs posted, completed, confirmed in [from, to].
        Index("ix_jobs_created_at", "created_at"),
        Index("ix_jobs_completed_at", "completed_at"),
        Index("ix_jobs_confirmed_at", "confirmed_at"),
        # Jobs escalated to staff and still waiting (the console's My work and its nav badge
        # on every page): few rows, read in the staff listing's order.
        Index(
            "ix_jobs_escalated_waiting",
            "updated_at",
            "id",
            postgresql_where=text(ESCALATED_WAITING),
            sqlite_where=text(ESCALATED_WAITING),
        ),
        # The dispatch board, the longest-waiting first: a page reads its rows and stops.
        Index(
            "ix_jobs_board_waiting",
            "created_at",
            "id",
            postgresql_where=text(ON_BOARD),
            sqlite_where=text(ON_BOARD),
        ),
    )

    customer_id: Mapped[int] = mapped_column(BigId, ForeignKey("customers.id"), nullable=False)
    category_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("skill_categories.id"), nullable=False
    )
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    description: Mapped[str] = mapped_column(Text, nullable=False)
    # {kind, brand, model, age_years, notes}: free-form device facts for the member.
    device: Mapped[dict] = mapped_column(JSON, nullable=False, default=dict)
    address_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("customer_addresses.id"))
    street: Mapped[str | None] = mapped_column(String(200))
    postcode: Mapped[str] = mapped_column(String(10), nullable=False)
    city: Mapped[str] = mapped_column(String(120), nullable=False)
    country: Mapped[str] = mapped_column(String(2), nullable=False)
    lat: Mapped[float] = mapped_column(Float, nullable=False)
    lon: Mapped[float] = mapped_column(Float, nullable=False)
    duration_minutes: Mapped[int] = mapped_column(Integer, nullable=False)
    pricing: Mapped[str] = mapped_column(String(10), nullable=False)
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    # Fixed price, or for hourly jobs the estimate (rate × estimated duration), minor units.
    price_amount: Mapped[int] = mapped_column(BigInteger, nullable=False)
    hourly_rate_amount: Mapped[int | None] = mapped_column(BigInteger)
    min_level_rank: Mapped[int] = mapped_column(SmallInteger, nullable=False, default=1)
    preferred_member_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("members.id"))

    status: Mapped[str] = mapped_column(String(20), nullable=False, default="open")
    status_changed_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    wave: Mapped[int] = mapped_column(SmallInteger, nullable=False, default=0)
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    escalation_reason: Mapped[str | None] = mapped_column(String(200))
    assigned_member_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("members.id"))
    # The provider company the assigned member works for (organisations): set with the
    # assignment when the member is an active member of an active company, for whom they do
    # the job (the company is paid); None for a private member, and again when unassigned.
    organisation_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("organisations.id"), index=True
    )
    # The window the member committed to: what double-booking checks compare.
    scheduled_start: Mapped[datetime | None] = mapped_column(UTCDateTime)
    scheduled_end: Mapped[datetime | None] = mapped_column(UTCDateTime)
    assigned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_by: Mapped[str | None] = mapped_column(String(20))
    cancel_reason: Mapped[str | None] = mapped_column(String(500))
    cancellation_fee_amount: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)

    windows: Mapped[list[JobWindow]] = relationship(
        cascade="all, delete-orphan", order_by="JobWindow.starts_at"
    )
    skills: Mapped[list[JobSkill]] = relationship(cascade="all, delete-orphan")
    # Read-only: lists load it in their own query (joinedload), a single job on first use.
    category: Mapped[SkillCategory] = relationship(viewonly=True)


class JobSkill(Base):
    __tablename__ = "job_skills"

    job_id: Mapped[int] = mapped_column(BigId, ForeignKey("jobs.id"), primary_key=True)
    skill_id: Mapped[int] = mapped_column(BigId, ForeignKey("skills.id"), primary_key=True)


class JobWindow(IdMixin, Base):
    __tablename__ = "job_windows"
    __table_args__ = (CheckConstraint("starts_at < ends_at", name="ordered"),)

    job_id: Mapped[int] = mapped_column(BigId, ForeignKey("jobs.id"), nullable=False, index=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)


class Offer(IdMixin, Base):
    """A job offered to one member in one wave; the first accepted offer wins the job."""

    __tablename__ = "offers"
    __table_args__ = (
        UniqueConstraint("job_id", "member_id", name="uq_offers_job_member"),
        CheckConstraint(
            "status IN ('pending', 'accepted', 'declined', 'expired', 'withdrawn')",
            name="status_known",
        ),
        Index("ix_offers_member_status", "member_id", "status", "updated_at"),
        Index("ix_offers_status_expires", "status", "expires_at"),
    )

    job_id: Mapped[int] = mapped_column(BigId, ForeignKey("jobs.id"), nullable=False, index=True)
    member_id: Mapped[int] = mapped_column(BigId, ForeignKey("members.id"), nullable=False)
    wave: Mapped[int] = mapped_column(SmallInteger, nullable=False)
    # A preferred member's first offer is exclusive for its hold period.
    exclusive: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    score: Mapped[float] = mapped_column(Float, nullable=False, default=0.0)
    status: Mapped[str] = mapped_column(String(12), nullable=False, default="pending")
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    responded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decline_reason: Mapped[str | None] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime, nullable=False, default=utcnow, onupdate=utcnow
    )

    job: Mapped[Job] = relationship()


class JobEvent(IdMixin, Base):
    """Audit trail: every transition of a job, who caused it and with what."""

    __tablename__ = "job_events"

    job_id: Mapped[int] = mapped_column(BigId, ForeignKey("jobs.id"), nullable=False, index=True)
    action: Mapped[str] = mapped_column(String(40), nullable=False)
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20), nullable=False)
    actor: Mapped[str] = mapped_column(String(20), nullable=False)
    actor_user_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"))
    detail: Mapped[dict] = mapped_column(JSON, nullable=False, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)


class WorkReport(Base):
    __tablename__ = "work_reports"
    __table_args__ = (CheckConstraint("minutes_spent BETWEEN 1 AND 1440", name="minutes_range"),)

    job_id: Mapped[int] = mapped_column(BigId, ForeignKey("jobs.id"), primary_key=True)
    notes: Mapped[str] = mapped_column(Text, nullable=False)
    minutes_spent: Mapped[int] = mapped_column(Integer, nullable=False)
    # [{name, quantity, amount}] and opaque references to photos stored elsewhere.
    parts: Mapped[list] = mapped_column(JSON, nullable=False, default=list)
    photo_refs: Mapped[list] = mapped_column(JSON, nullable=False, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)


# What a file of a work report is: a photo of the work, or the customer's signature.
WORK_REPORT_FILE_KINDS = ("photo", "signature")


class WorkReportFile(Base):
    """A file of a job's work report (crowd.core.files): photos of the work done and the
    customer's signature, uploaded by the member at completion. The job's parties and staff
    may read them; retention deletes them once the job can no longer be disputed."""

    __tablename__ = "work_report_files"
    __table_args__ = (
        CheckConstraint("kind IN ('photo', 'signature')", name="kind_known"),
        CheckConstraint("position >= 0", name="position_not_negative"),
    )

    job_id: Mapped[int] = mapped_column(BigId, ForeignKey("work_reports.job_id"), primary_key=True)
    file_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("stored_files.id"), primary_key=True, unique=True
    )
    kind: Mapped[str] = mapped_column(String(10), nullable=False)
    position: Mapped[int] = mapped_column(SmallInteger, nullable=False, default=0)


class Review(IdMixin, Base):
    """A rating of the other side; hidden until both reviewed or the blind period ends."""

    __tablename__ = "reviews"
    __table_args__ = (
        UniqueConstraint("job_id", "author", name="uq_reviews_job_author"),
        CheckConstraint("author IN ('customer', 'member')", name="author_known"),
        CheckConstraint("stars BETWEEN 1 AND 5", name="stars_range"),
        Index("ix_reviews_created_at", "created_at"),  # crowd health: reviews in a period
    )

    job_id: Mapped[int] = mapped_column(BigId, ForeignKey("jobs.id"), nullable=False, index=True)
    author: Mapped[str] = mapped_column(String(10), nullable=False)
    author_user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"), nullable=False)
    stars: Mapped[int] = mapped_column(SmallInteger, nullable=False)
    comment: Mapped[str | None] = mapped_column(Text)
    tags: Mapped[list] = mapped_column(JSON, nullable=False, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
