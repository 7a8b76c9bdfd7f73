"""Levels as data: versioned rule sets of levels, each member's level, and every change."""

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
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crowd.core.db import Base, BigId, IdMixin, UTCDateTime, utcnow

__all__ = [
    "LEVEL_CHANGE_CAUSES",
    "RULESET_STATUSES",
    "Level",
    "LevelCategory",
    "LevelChange",
    "LevelRuleset",
    "MemberLevel",
]

RULESET_STATUSES = ("draft", "active", "retired")
# approval: first level on admission; event: promoted right after a job / review / training;
# daily: the crowd-wide evaluation; manual: set by a community manager; ruleset: a new rule set
# took away the member's level altogether (fewer levels).
LEVEL_CHANGE_CAUSES = ("approval", "event", "daily", "manual", "ruleset")


class LevelRuleset(IdMixin, Base):
    """One version of the level ladder. Drafts are edited and dry-run; one is active."""

    __tablename__ = "level_rulesets"
    __table_args__ = (
        CheckConstraint("status IN ('draft', 'active', 'retired')", name="status_known"),
        CheckConstraint("demotion_tolerance_percent BETWEEN 1 AND 100", name="tolerance_range"),
        CheckConstraint("grace_days >= 0", name="grace_non_negative"),
        Index(
            "uq_level_rulesets_active",
            "status",
            unique=True,
            postgresql_where=text("status = 'active'"),
            sqlite_where=text("status = 'active'"),
        ),
    )

    version: Mapped[int] = mapped_column(Integer, nullable=False, unique=True)
    status: Mapped[str] = mapped_column(String(20), nullable=False, default="draft")
    note: Mapped[str | None] = mapped_column(String(1000))
    # Hysteresis: a member keeps a level while each requirement is met to this percentage
    # (a minimum at ≥ 90 % of it, a maximum at ≤ it / 90 %) …
    demotion_tolerance_percent: Mapped[int] = mapped_column(
        SmallInteger, nullable=False, default=90
    )
    # … and is never demoted within this many days after a promotion.
    grace_days: Mapped[int] = mapped_column(SmallInteger, nullable=False, default=14)
    created_by_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    activated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    activated_by_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"))

    levels: Mapped[list[Level]] = relationship(
        back_populates="ruleset", order_by="Level.rank", cascade="all, delete-orphan"
    )


class Level(IdMixin, Base):
    """A rung of the ladder: what it takes (requirements) and what it gives (privileges)."""

    __tablename__ = "levels"
    __table_args__ = (
        UniqueConstraint("ruleset_id", "rank"),
        UniqueConstraint("ruleset_id", "code"),
        CheckConstraint("rank BETWEEN 1 AND 20", name="rank_range"),
        CheckConstraint("max_concurrent_jobs BETWEEN 1 AND 20", name="max_jobs_range"),
    )

    ruleset_id: Mapped[int] = mapped_column(BigId, ForeignKey("level_rulesets.id"), nullable=False)
    rank: Mapped[int] = mapped_column(SmallInteger, nullable=False)
    code: Mapped[str] = mapped_column(String(40), nullable=False)
    name: Mapped[str] = mapped_column(String(80), nullable=False)
    # [{"metric": "jobs_completed", "min": 10}, {"metric": "cancellation_rate", "max": 0.1}]
    requirements: Mapped[list] = mapped_column(JSON, nullable=False, default=list)
    # Privileges. Jobs whose minimum level rank is at most this level's rank are open to it.
    max_concurrent_jobs: Mapped[int] = mapped_column(SmallInteger, nullable=False)
    # Commission plan codes a member of this level may choose.
    plan_codes: Mapped[list] = mapped_column(JSON, nullable=False, default=list)
    # The plan a promotion moves a member to (one of plan_codes; null: promotions keep the plan).
    default_plan_code: Mapped[str | None] = mapped_column(String(40))
    # False: every category; True: only those in level_categories.
    restricts_categories: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)

    ruleset: Mapped[LevelRuleset] = relationship(back_populates="levels")
    categories: Mapped[list[LevelCategory]] = relationship(cascade="all, delete-orphan")


class LevelCategory(Base):
    """A skill category a restricted level may take jobs in."""

    __tablename__ = "level_categories"

    level_id: Mapped[int] = mapped_column(BigId, ForeignKey("levels.id"), primary_key=True)
    category_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("skill_categories.id"), primary_key=True
    )


class MemberLevel(Base):
    """A member's standing in the ladder beyond the rank on `members.level_rank` (the copy
    matching reads): since when, the last promotion (grace), and a CM's lock."""

    __tablename__ = "member_levels"

    member_id: Mapped[int] = mapped_column(BigId, ForeignKey("members.id"), primary_key=True)
    # When the member was admitted (tenure counts from here).
    active_since: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    level_since: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    promoted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    locked: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    locked_by_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"))
    locked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    lock_reason: Mapped[str | None] = mapped_column(String(500))


class LevelChange(IdMixin, Base):
    """Every level change: old and new level, the rule version, the cause and the figures."""

    __tablename__ = "level_changes"
    __table_args__ = (
        CheckConstraint(
            "cause IN ('approval', 'event', 'daily', 'manual', 'ruleset')", name="cause_known"
        ),
        Index("ix_level_changes_member_created", "member_id", "created_at"),
    )

    member_id: Mapped[int] = mapped_column(BigId, ForeignKey("members.id"), nullable=False)
    from_rank: Mapped[int] = mapped_column(SmallInteger, nullable=False)
    to_rank: Mapped[int] = mapped_column(SmallInteger, nullable=False)
    from_code: Mapped[str | None] = mapped_column(String(40))
    to_code: Mapped[str] = mapped_column(String(40), nullable=False)
    ruleset_version: Mapped[int] = mapped_column(Integer, nullable=False)
    cause: Mapped[str] = mapped_column(String(20), nullable=False)
    # What triggered it ("job.confirmed:42", "daily:2026-11-21") or the CM's reason.
    detail: Mapped[str | None] = mapped_column(String(500))
    # The member's figures at the time, as the rules saw them.
    metrics: Mapped[dict] = mapped_column(JSON, nullable=False, default=dict)
    changed_by_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
