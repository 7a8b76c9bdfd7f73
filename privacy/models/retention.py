"""Privacy tables: retention rules (how long each kind of personal data is kept) and the log
of the runs that enforce them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from crowd.core.db import Base, BigId, IdMixin, UTCDateTime, utcnow

__all__ = ["RETENTION_ACTIONS", "RetentionRule", "RetentionRun"]

# delete: the data goes (files: marked deleted, their objects removed after the commit);
# anonymise: the record stays without what identifies a person; keep: nothing is removed
# (a legal duty to keep it, e.g. the books for 10 years).
RETENTION_ACTIONS = ("delete", "anonymise", "keep")


class RetentionRule(Base):
    """How long one kind of data is kept, from when the clock starts, and what happens then.

    The kinds and what each one's enforcement does are the code's (privacy.enforcement); the
    period is data: admins change `keep_days` within [min_days, max_days] (the lower bound is
    what the platform still needs the data for, or the legal minimum)."""

    __tablename__ = "retention_rules"
    __table_args__ = (
        CheckConstraint("action IN ('delete', 'anonymise', 'keep')", name="action_known"),
        CheckConstraint("min_days >= 0 AND min_days <= max_days", name="bounds_ordered"),
        CheckConstraint("keep_days BETWEEN min_days AND max_days", name="keep_days_in_bounds"),
    )

    kind: Mapped[str] = mapped_column(String(40), primary_key=True)
    action: Mapped[str] = mapped_column(String(12), nullable=False)
    keep_days: Mapped[int] = mapped_column(Integer, nullable=False)
    min_days: Mapped[int] = mapped_column(Integer, nullable=False)
    max_days: Mapped[int] = mapped_column(Integer, nullable=False)
    # What the clock starts from ("the check's decision"), and why the period (the purpose,
    # the legal basis).
    starts_from: Mapped[str] = mapped_column(Text, nullable=False)
    legal_basis: Mapped[str] = mapped_column(Text, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    # Null for the rules the platform came with.
    updated_by_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"))


class RetentionRun(IdMixin, Base):
    """One enforcement of the rules: when it ran, the instant it judged by, and how many of
    each kind it deleted (updated with each committed batch, so an interrupted run's counts
    are what it really did; finished_at stays null then)."""

    __tablename__ = "retention_runs"

    started_at: Mapped[datetime] = mapped_column(
        UTCDateTime, nullable=False, default=utcnow, index=True
    )
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The instant the rules were applied at (the clock; a test or a catch-up passes its own).
    as_of: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    # {kind: count} for every rule enforced (0 included).
    counts: Mapped[dict] = mapped_column(JSON, nullable=False, default=dict)
    total: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    # What started it: the schedule or the command.
    cause: Mapped[str] = mapped_column(String(20), nullable=False, default="schedule")
