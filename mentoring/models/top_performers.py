"""Top performers: periodic runs, every decision with its figures, badges with validity."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from crowd.core.db import Base, BigId, IdMixin, UTCDateTime, utcnow

__all__ = ["TopPerformerBadge", "TopPerformerDecision", "TopPerformerRun"]


class TopPerformerRun(IdMixin, Base):
    """One evaluation, for a period (e.g. 2026-Q4), over a rolling window of figures."""

    __tablename__ = "top_performer_runs"
    __table_args__ = (
        CheckConstraint("status IN ('running', 'done', 'failed')", name="status_known"),
    )

    # e.g. "2026-Q4"; one run per period (a re-run of the same period is refused).
    period: Mapped[str] = mapped_column(String(20), nullable=False, unique=True)
    period_start: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    period_end: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    window_start: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    window_end: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    # The gates and the top share as they were applied.
    criteria: Mapped[dict] = mapped_column(JSON, nullable=False)
    status: Mapped[str] = mapped_column(String(20), nullable=False, default="running")
    evaluated: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    awarded: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    started_by_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class TopPerformerDecision(IdMixin, Base):
    """Why a member was or was not a top performer in a run: the figures and the gates."""

    __tablename__ = "top_performer_decisions"
    __table_args__ = (
        UniqueConstraint("run_id", "member_id", "category_id"),
        Index("ix_top_performer_decisions_member", "member_id", "run_id"),
    )

    run_id: Mapped[int] = mapped_column(BigId, ForeignKey("top_performer_runs.id"), nullable=False)
    member_id: Mapped[int] = mapped_column(BigId, ForeignKey("members.id"), nullable=False)
    category_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("skill_categories.id"), nullable=False
    )
    # The ranking cell: country (or a finer region code).
    region: Mapped[str] = mapped_column(String(20), nullable=False)
    figures: Mapped[dict] = mapped_column(JSON, nullable=False)
    # Gates failed ([] = passed all), the rank in the cell and the cell's size.
    failed_gates: Mapped[list] = mapped_column(JSON, nullable=False, default=list)
    score: Mapped[float | None] = mapped_column(Float)
    rank: Mapped[int | None] = mapped_column(Integer)
    cell_size: Mapped[int | None] = mapped_column(Integer)
    awarded: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)


class TopPerformerBadge(IdMixin, Base):
    """A badge: valid for the period, kept through the next one as grace."""

    __tablename__ = "top_performer_badges"
    __table_args__ = (
        UniqueConstraint("run_id", "member_id", "category_id"),
        Index("ix_top_performer_badges_member_valid", "member_id", "valid_until"),
    )

    run_id: Mapped[int] = mapped_column(BigId, ForeignKey("top_performer_runs.id"), nullable=False)
    member_id: Mapped[int] = mapped_column(BigId, ForeignKey("members.id"), nullable=False)
    category_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("skill_categories.id"), nullable=False
    )
    region: Mapped[str] = mapped_column(String(20), nullable=False)
    valid_from: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    # End of the grace period (the end of the following period).
    valid_until: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoke_reason: Mapped[str | None] = mapped_column(String(500))
    # The commission perk granted with it (payouts.plans.grant_perk).
    perk_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("member_commission_perks.id"))
