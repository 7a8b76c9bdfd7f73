"""Skill catalogue, crowd member profiles, skills, availability, status history and counters."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    FetchedValue,
    Float,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crowd.core.db import Base, BigId, IdMixin, TimestampMixin, UTCDateTime, utcnow

MEMBER_KINDS = ("professional", "private")
MEMBER_STATUSES = ("applicant", "active", "paused", "suspended", "offboarded")
COUNTRIES = ("DE", "AT", "CH")
SERVICES = ("installation", "repair", "explanation")


class SkillCategory(IdMixin, Base):
    __tablename__ = "skill_categories"

    slug: Mapped[str] = mapped_column(String(60), nullable=False, unique=True)
    name: Mapped[str] = mapped_column(String(120), nullable=False)
    name_de: Mapped[str] = mapped_column(String(120), nullable=False)
    # Safety-relevant work (appliances, wallboxes…) needs skills a CM has verified.
    requires_verification: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)

    skills: Mapped[list[Skill]] = relationship(back_populates="category", order_by="Skill.id")


class Skill(IdMixin, Base):
    __tablename__ = "skills"
    __table_args__ = (
        CheckConstraint(
            "service IN ('installation', 'repair', 'explanation')", name="service_known"
        ),
    )

    slug: Mapped[str] = mapped_column(String(60), nullable=False, unique=True)
    name: Mapped[str] = mapped_column(String(120), nullable=False)
    service: Mapped[str] = mapped_column(String(20), nullable=False)
    category_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("skill_categories.id"), nullable=False, index=True
    )

    category: Mapped[SkillCategory] = relationship(back_populates="skills")


class Member(IdMixin, TimestampMixin, Base):
    """A crowd member's profile; one per user with role 'member'."""

    __tablename__ = "members"
    __table_args__ = (
        CheckConstraint("kind IN ('professional', 'private')", name="kind_known"),
        CheckConstraint(
            "status IN ('applicant', 'active', 'paused', 'suspended', 'offboarded')",
            name="status_known",
        ),
        CheckConstraint("country IS NULL OR country IN ('DE', 'AT', 'CH')", name="country_known"),
        CheckConstraint("service_radius_km BETWEEN 1 AND 200", name="radius_range"),
        CheckConstraint("max_concurrent_jobs BETWEEN 1 AND 20", name="max_jobs_range"),
        CheckConstraint("lat IS NULL OR (lat BETWEEN -90 AND 90)", name="lat_range"),
        CheckConstraint("lon IS NULL OR (lon BETWEEN -180 AND 180)", name="lon_range"),
        Index("ix_members_status_lat_lon", "status", "lat", "lon"),
        # The console's search: exact phone, name prefix (see search_members).
        Index("ix_members_phone", "phone"),
        Index(
            "ix_members_name_prefix",
            func.lower(text("display_name")).label("name_lower"),
            postgresql_ops={"name_lower": "text_pattern_ops"},
        ),
    )

    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"), nullable=False, unique=True)
    kind: Mapped[str] = mapped_column(String(20), nullable=False)
    display_name: Mapped[str] = mapped_column(String(120), nullable=False)
    phone: Mapped[str | None] = mapped_column(String(40))
    bio: Mapped[str | None] = mapped_column(Text)
    business_name: Mapped[str | None] = mapped_column(String(200))
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    postcode: Mapped[str | None] = mapped_column(String(10), index=True)
    city: Mapped[str | None] = mapped_column(String(120), index=True)
    country: Mapped[str | None] = mapped_column(String(2), index=True)
    service_radius_km: Mapped[int] = mapped_column(Integer, nullable=False, default=25)
    max_concurrent_jobs: Mapped[int] = mapped_column(Integer, nullable=False, default=2)
    status: Mapped[str] = mapped_column(String(20), nullable=False, default="applicant", index=True)
    status_changed_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    # Rank in the level ladder (0 = no level yet); the onboarding domain owns the ladder.
    level_rank: Mapped[int] = mapped_column(SmallInteger, nullable=False, default=0, index=True)
    # A ready file of purpose profile_photo (crowd.core.files), shown with the public face.
    profile_photo_file_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("stored_files.id"))

    skills: Mapped[list[MemberSkill]] = relationship(
        back_populates="member", cascade="all, delete-orphan", order_by="MemberSkill.skill_id"
    )
    availability: Mapped[list[AvailabilitySlot]] = relationship(
        cascade="all, delete-orphan",
        order_by="(AvailabilitySlot.weekday, AvailabilitySlot.start_minute)",
    )
    stats: Mapped[MemberStats] = relationship(cascade="all, delete-orphan", uselist=False)


# Columns the database computes (triggers): the ORM never writes them and reloads them on use.
_BY_TRIGGER = {"server_default": FetchedValue(), "server_onupdate": FetchedValue()}


class MemberSkill(Base):
    __tablename__ = "member_skills"
    __table_args__ = (
        CheckConstraint("proficiency BETWEEN 1 AND 3", name="proficiency_range"),
        # The matching prefilter goes from a skill to its members (verified ones, where needed).
        Index("ix_member_skills_skill_member", "skill_id", "member_id"),
        Index(
            "ix_member_skills_verified",
            "skill_id",
            "member_id",
            postgresql_where=text("verified"),
            sqlite_where=text("verified"),
        ),
    )

    member_id: Mapped[int] = mapped_column(BigId, ForeignKey("members.id"), primary_key=True)
    skill_id: Mapped[int] = mapped_column(BigId, ForeignKey("skills.id"), primary_key=True)
    # 1 basic, 2 advanced, 3 expert
    proficiency: Mapped[int] = mapped_column(SmallInteger, nullable=False, default=1)
    verified: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    verified_by_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"))
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The member's reach — the box their service radius spans around them, in degrees — kept
    # on each claim by database triggers (migration i23_reach) from `members`, never written
    # here: matching finds the holders of a skill whose reach covers a job in one index scan.
    reach_lat_lo: Mapped[float | None] = mapped_column(Float, **_BY_TRIGGER)
    reach_lat_hi: Mapped[float | None] = mapped_column(Float, **_BY_TRIGGER)
    reach_lon_lo: Mapped[float | None] = mapped_column(Float, **_BY_TRIGGER)
    reach_lon_hi: Mapped[float | None] = mapped_column(Float, **_BY_TRIGGER)

    member: Mapped[Member] = relationship(back_populates="skills")
    skill: Mapped[Skill] = relationship(lazy="joined")


class AvailabilitySlot(IdMixin, Base):
    """A weekly recurring window in the member's local time (Europe/Berlin, Vienna or Zurich)."""

    __tablename__ = "availability_slots"
    __table_args__ = (
        CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday_range"),
        CheckConstraint(
            "start_minute >= 0 AND end_minute <= 1440 AND start_minute < end_minute",
            name="minutes_ordered",
        ),
    )

    member_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("members.id"), nullable=False, index=True
    )
    weekday: Mapped[int] = mapped_column(SmallInteger, nullable=False)
    start_minute: Mapped[int] = mapped_column(SmallInteger, nullable=False)
    end_minute: Mapped[int] = mapped_column(SmallInteger, nullable=False)


class TimeOff(IdMixin, Base):
    __tablename__ = "time_off"
    __table_args__ = (CheckConstraint("starts_at < ends_at", name="ordered"),)

    member_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("members.id"), nullable=False, index=True
    )
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    reason: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)


class MemberStatusChange(IdMixin, Base):
    """Audit trail of every status change: who, when, why."""

    __tablename__ = "member_status_changes"
    # A member's status at an instant: their last change at or before it (crowd health).
    __table_args__ = (Index("ix_member_status_changes_member_created", "member_id", "created_at"),)

    member_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("members.id"), nullable=False, index=True
    )
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20), nullable=False)
    reason: Mapped[str] = mapped_column(String(500), nullable=False)
    changed_by_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)


class MemberStats(Base):
    """Performance counters, kept current by events (offer answered, job done, rating …).

    Rates are derived from counts so that they stay exact; the median response time is
    recomputed from a bounded window of recent response times on each event.
    """

    __tablename__ = "member_stats"
    __table_args__ = (
        CheckConstraint(
            "offers_received >= 0 AND offers_accepted >= 0 AND offers_declined >= 0 "
            "AND jobs_completed >= 0 AND jobs_cancelled >= 0 AND rating_count >= 0 "
            "AND rating_sum >= 0 AND jobs_disputed >= 0 AND disputes_lost >= 0",
            name="counts_non_negative",
        ),
    )

    member_id: Mapped[int] = mapped_column(BigId, ForeignKey("members.id"), primary_key=True)
    offers_received: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    offers_accepted: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    offers_declined: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    jobs_completed: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    jobs_cancelled: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    rating_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    rating_sum: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    # Jobs of the member that went into dispute, and disputes settled against the member.
    jobs_disputed: Mapped[int] = mapped_column(
        Integer, nullable=False, default=0, server_default="0"
    )
    disputes_lost: Mapped[int] = mapped_column(
        Integer, nullable=False, default=0, server_default="0"
    )
    # Denormalised for ranking and filtering; maintained with the counts above.
    acceptance_rate: Mapped[float | None] = mapped_column(Float)
    cancellation_rate: Mapped[float | None] = mapped_column(Float)
    average_rating: Mapped[float | None] = mapped_column(Float)
    median_response_seconds: Mapped[int | None] = mapped_column(Integer)
    recent_response_seconds: Mapped[list] = mapped_column(JSON, nullable=False, default=list)
    last_job_completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime, nullable=False, default=utcnow, onupdate=utcnow
    )


class MemberBillingProfile(Base):
    """Who the member's self-billing credit notes and fee invoices are addressed to, and how
    VAT applies to them: written whole by members/billing_profile.py, which checks the form."""

    __tablename__ = "member_billing_profiles"
    __table_args__ = (
        CheckConstraint("country IN ('DE', 'AT', 'CH')", name="country_known"),
        # A member charging VAT names it on their documents: a VAT ID or a tax number.
        CheckConstraint(
            "small_business OR vat_id IS NOT NULL OR tax_number IS NOT NULL",
            name="tax_id_unless_small_business",
        ),
    )

    member_id: Mapped[int] = mapped_column(BigId, ForeignKey("members.id"), primary_key=True)
    # The person's or business's full name as the documents print it.
    legal_name: Mapped[str] = mapped_column(String(200), nullable=False)
    street: Mapped[str] = mapped_column(String(200), nullable=False)
    postcode: Mapped[str] = mapped_column(String(10), nullable=False)
    city: Mapped[str] = mapped_column(String(120), nullable=False)
    country: Mapped[str] = mapped_column(String(2), nullable=False)
    # Normalised by crowd.core.tax_ids: DE136695976, ATU57194903, CHE-107.787.577 MWST.
    vat_id: Mapped[str | None] = mapped_column(String(40))
    tax_number: Mapped[str | None] = mapped_column(String(40))
    # Kleinunternehmer (DE §19 UStG, AT §6 (1) Z 27 UStG; CH: not liable for VAT): no VAT.
    small_business: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime, nullable=False, default=utcnow, onupdate=utcnow
    )
