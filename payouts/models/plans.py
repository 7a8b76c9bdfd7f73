"""Commission plans as data, their assignment to members over time, and commission perks."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crowd.core.db import Base, BigId, IdMixin, TimestampMixin, UTCDateTime, utcnow

__all__ = ["PLAN_KINDS", "CommissionPlan", "MemberCommissionPerk", "MemberPlan", "OrganisationPlan"]

PLAN_KINDS = ("percentage", "flat_fee", "fixed_fee")


class CommissionPlan(IdMixin, TimestampMixin, Base):
    """How the platform earns from a member: a share per job, a monthly fee, or a fee per job.

    percentage: percent_bp of each job's price. flat_fee: monthly_fee_amount each month in
    fee_currency, plus percent_bp (zero or reduced) per job. fixed_fee: fixed_fee_amount per job
    in fee_currency (capped at the price). Amounts of a plan in use never change.
    """

    __tablename__ = "commission_plans"
    __table_args__ = (
        CheckConstraint("kind IN ('percentage', 'flat_fee', 'fixed_fee')", name="kind_known"),
        CheckConstraint("percent_bp BETWEEN 0 AND 10000", name="percent_range"),
        CheckConstraint(
            "fee_currency IS NULL OR fee_currency IN ('EUR', 'CHF')", name="currency_known"
        ),
        # Each kind carries exactly the amounts it charges.
        CheckConstraint(
            "kind <> 'percentage' OR (monthly_fee_amount IS NULL AND fixed_fee_amount IS NULL "
            "AND fee_currency IS NULL)",
            name="percentage_has_no_fee",
        ),
        CheckConstraint(
            "kind <> 'flat_fee' OR (monthly_fee_amount > 0 AND fixed_fee_amount IS NULL "
            "AND fee_currency IS NOT NULL)",
            name="flat_fee_amounts",
        ),
        CheckConstraint(
            "kind <> 'fixed_fee' OR (fixed_fee_amount > 0 AND monthly_fee_amount IS NULL "
            "AND fee_currency IS NOT NULL AND percent_bp = 0)",
            name="fixed_fee_amounts",
        ),
    )

    code: Mapped[str] = mapped_column(String(40), nullable=False, unique=True)
    name: Mapped[str] = mapped_column(String(120), nullable=False)
    kind: Mapped[str] = mapped_column(String(20), nullable=False)
    # Basis points of the job price: 2000 = 20 %.
    percent_bp: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    monthly_fee_amount: Mapped[int | None] = mapped_column(BigInteger)
    fixed_fee_amount: Mapped[int | None] = mapped_column(BigInteger)
    fee_currency: Mapped[str | None] = mapped_column(String(3))
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)


class MemberPlan(IdMixin, Base):
    """A member is on `plan` from effective_from (inclusive) to effective_to (exclusive, open)."""

    __tablename__ = "member_plans"
    __table_args__ = (
        CheckConstraint(
            "effective_to IS NULL OR effective_to > effective_from", name="period_ordered"
        ),
        Index("ix_member_plans_member_from", "member_id", "effective_from"),
    )

    member_id: Mapped[int] = mapped_column(BigId, ForeignKey("members.id"), nullable=False)
    plan_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("commission_plans.id"), nullable=False, index=True
    )
    effective_from: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    effective_to: Mapped[datetime | None] = mapped_column(UTCDateTime)
    assigned_by_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"))
    # Why: null = chosen by the member or set by staff; "promotion", "demotion", "admission" or
    # "level_rules" (same rank, new rules) when the member's level moved them
    # (level_change_id names the change, onboarding's).
    cause: Mapped[str | None] = mapped_column(String(40))
    level_change_id: Mapped[int | None] = mapped_column(BigId)
    # The reason as the member reads it ("your promotion to Senior gives you its plan"); set by
    # whoever moved them, shown beside every job's commission.
    reason: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)

    plan: Mapped[CommissionPlan] = relationship(lazy="joined")


class OrganisationPlan(IdMixin, Base):
    """A provider company's plan: the commission (and monthly fee) of the jobs its technicians
    do. One current plan per company, changed in place (a job keeps the plan it settled on in
    its payment's commission breakdown); a company without a row is on the standard plan."""

    __tablename__ = "organisation_plans"

    organisation_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("organisations.id"), nullable=False, unique=True
    )
    plan_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("commission_plans.id"), nullable=False, index=True
    )
    assigned_by_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)

    plan: Mapped[CommissionPlan] = relationship(lazy="joined")


class MemberCommissionPerk(IdMixin, Base):
    """A programme's reward: percentage points off a member's commission for a period."""

    __tablename__ = "member_commission_perks"
    __table_args__ = (
        CheckConstraint("discount_bp BETWEEN 1 AND 10000", name="discount_range"),
        CheckConstraint("valid_to IS NULL OR valid_to > valid_from", name="period_ordered"),
        Index("ix_member_commission_perks_member_from", "member_id", "valid_from"),
    )

    member_id: Mapped[int] = mapped_column(BigId, ForeignKey("members.id"), nullable=False)
    discount_bp: Mapped[int] = mapped_column(Integer, nullable=False)
    reason: Mapped[str] = mapped_column(String(200), nullable=False)
    valid_from: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    valid_to: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
