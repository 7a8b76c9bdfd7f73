"""Referral codes, referrals and their rewards, recruitment channels and members' devices."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from crowd.core.db import Base, BigId, IdMixin, TimestampMixin, UTCDateTime, utcnow

__all__ = [
    "CHANNEL_KINDS",
    "PARTNER_TYPES",
    "REFERRAL_STATUSES",
    "SOURCE_KINDS",
    "MemberDevice",
    "RecruitmentChannel",
    "Referral",
    "ReferralCode",
]

# Where an application came from. referral: a member's code; event, partner, campaign: a
# RecruitmentChannel of that kind; organic: none of these.
SOURCE_KINDS = ("referral", "event", "partner", "campaign", "organic")
CHANNEL_KINDS = ("event", "partner", "campaign")
PARTNER_TYPES = ("trade_school", "repair_cafe", "retailer", "association", "other")
# pending: registered, milestone not reached; review: a signal needs a CM's decision;
# rewarded: the reward is posted; refused: self-referral or farming (reason says which);
# lapsed: the referred member left before the milestone.
REFERRAL_STATUSES = ("pending", "review", "rewarded", "refused", "lapsed")


class ReferralCode(IdMixin, Base):
    """An active member's code; their link is RECRUITMENT_JOIN_URL?ref=<code>."""

    __tablename__ = "referral_codes"

    member_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("members.id"), nullable=False, unique=True
    )
    code: Mapped[str] = mapped_column(String(16), nullable=False, unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    # A CM may disable a code (abuse); registrations with it are then refused.
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Referral(IdMixin, TimestampMixin, Base):
    """One referred member: who referred them, the checks and the reward, credited once."""

    __tablename__ = "referrals"
    __table_args__ = (
        CheckConstraint(
            "status IN ('pending', 'review', 'rewarded', 'refused', 'lapsed')",
            name="status_known",
        ),
        CheckConstraint("referrer_member_id <> referred_member_id", name="not_self"),
        CheckConstraint("reward_minor IS NULL OR reward_minor > 0", name="reward_positive"),
        Index("ix_referrals_referrer_status", "referrer_member_id", "status"),
    )

    referrer_member_id: Mapped[int] = mapped_column(BigId, ForeignKey("members.id"), nullable=False)
    # A member is referred at most once.
    referred_member_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("members.id"), nullable=False, unique=True
    )
    code_id: Mapped[int] = mapped_column(BigId, ForeignKey("referral_codes.id"), nullable=False)
    status: Mapped[str] = mapped_column(String(20), nullable=False, default="pending")
    # Why it was refused, held for review or lapsed: same_person, same_device,
    # same_payout_account, same_email_domain, referrer_inactive, monthly_cap (documented in
    # recruitment/fraud.py), left_before_milestone, or a CM's reason. decided_by_id: the
    # CM who approved or refused it (a pending referral with one was cleared of a hold).
    reason: Mapped[str | None] = mapped_column(String(60))
    milestone: Mapped[str] = mapped_column(String(40), nullable=False)
    milestone_reached_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reward_minor: Mapped[int | None] = mapped_column(BigId)
    reward_currency: Mapped[str | None] = mapped_column(String(3))
    reward_transaction_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("ledger_transactions.id")
    )
    decided_by_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"))


class RecruitmentChannel(IdMixin, TimestampMixin, Base):
    """A partner (trade school, repair café …), campaign or event applicants name by code."""

    __tablename__ = "recruitment_channels"
    __table_args__ = (
        CheckConstraint("kind IN ('event', 'partner', 'campaign')", name="kind_known"),
        CheckConstraint(
            "partner_type IS NULL OR partner_type IN "
            "('trade_school', 'repair_cafe', 'retailer', 'association', 'other')",
            name="partner_type_known",
        ),
    )

    kind: Mapped[str] = mapped_column(String(20), nullable=False)
    # What applicants type or the link carries (?source=<code>); stored upper case.
    code: Mapped[str] = mapped_column(String(40), nullable=False, unique=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    partner_type: Mapped[str | None] = mapped_column(String(20))
    # An event channel may name the programme event it recruited at.
    event_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("events.id"))
    city: Mapped[str | None] = mapped_column(String(120))
    country: Mapped[str | None] = mapped_column(String(2))
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    created_by_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"), nullable=False)


class MemberDevice(Base):
    """A device a member registered or signed in from, by the hash of the app's install id."""

    __tablename__ = "member_devices"
    __table_args__ = (UniqueConstraint("member_id", "device_hash"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    member_id: Mapped[int] = mapped_column(BigId, ForeignKey("members.id"), nullable=False)
    # SHA-256 of the device id: compared, never shown.
    device_hash: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
