"""Money tables: monthly fees billed to flat-fee members, payout runs and the payouts they make.

A MonthlyFee is one member's fee for one month (UNIQUE member + period): billing it posts one
ledger transaction, and a failed attempt is kept on the row and tried again by a later run.

A PayoutRun pays members their payable balances; at most one run waits to start (a partial
unique index on `status = 'requested'`), so simultaneous requests make one run. Each Payout is
written (with its ledger posting, payable → payouts:in_transit) and committed before the
provider is called, so the provider call always carries the same idempotency key,
`payout-{id}`, however often it is retried. Payout states (payouts.payout_lifecycle has them):
pending → in_transit → paid, or failed (the money returned to the member's payable); a payout
that was not sent because the member may not be paid now is `held`, with the reason, and moves
no money.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from crowd.core.db import Base, BigId, IdMixin, TimestampMixin, UTCDateTime

__all__ = [
    "MONTHLY_FEE_STATUSES",
    "PAYOUT_RUN_STATUSES",
    "PAYOUT_STATUSES",
    "MonthlyFee",
    "Payout",
    "PayoutRun",
]

# pending (row written, not posted yet) → billed, or failed (retried by a later run) → billed.
MONTHLY_FEE_STATUSES = ("pending", "billed", "failed")
# requested (an admin asked; the task has not run yet) → sending (payouts written and committed,
# transfers going out) → completed (no payout of the run is pending any more).
PAYOUT_RUN_STATUSES = ("requested", "sending", "completed")
PAYOUT_STATUSES = ("pending", "in_transit", "paid", "failed", "held", "released")


class MonthlyFee(IdMixin, TimestampMixin, Base):
    """A flat-fee member's fee for one month, billed once to their payable or receivable."""

    __tablename__ = "monthly_fees"
    __table_args__ = (
        UniqueConstraint("member_id", "period", name="uq_monthly_fees_member_period"),
        UniqueConstraint("organisation_id", "period", name="uq_monthly_fees_organisation_period"),
        # A member's fee or a provider company's, never both.
        CheckConstraint("(member_id IS NULL) <> (organisation_id IS NULL)", name="one_payer"),
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("currency IN ('EUR', 'CHF')", name="currency_known"),
        CheckConstraint("status IN ('pending', 'billed', 'failed')", name="status_known"),
        CheckConstraint(
            "charged_to IS NULL OR charged_to IN ('payable', 'receivable')", name="charged_to_known"
        ),
        CheckConstraint("length(period) = 7", name="period_is_a_month"),
        # A billed fee names its posting and where it was charged.
        CheckConstraint(
            "status <> 'billed' OR (transaction_id IS NOT NULL AND charged_to IS NOT NULL)",
            name="billed_has_posting",
        ),
        Index("ix_monthly_fees_period_status", "period", "status"),
    )

    member_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("members.id"))
    # A provider company's fee (its plan's), instead of a member's.
    organisation_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("organisations.id"))
    period: Mapped[str] = mapped_column(String(7), nullable=False)  # "YYYY-MM", UTC months
    plan_id: Mapped[int] = mapped_column(BigId, ForeignKey("commission_plans.id"), nullable=False)
    amount: Mapped[int] = mapped_column(BigInteger, nullable=False)
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    status: Mapped[str] = mapped_column(String(10), nullable=False, default="pending")
    charged_to: Mapped[str | None] = mapped_column(String(10))
    transaction_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("ledger_transactions.id"), unique=True
    )
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    billed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def ledger_key(self) -> str:
        """The ledger transaction key of this fee: one posting per member (or company) and
        month."""
        if self.organisation_id is not None:
            return f"fee-organisation-{self.organisation_id}-{self.period}"
        return f"fee-{self.member_id}-{self.period}"

    @property
    def accounts(self) -> tuple[str, str]:
        """(payable, receivable) of whoever pays the fee."""
        if self.organisation_id is not None:
            owner = f"organisation:{self.organisation_id}"
        else:
            owner = f"member:{self.member_id}"
        return f"{owner}:payable", f"{owner}:receivable"


class PayoutRun(IdMixin, TimestampMixin, Base):
    """One pass over every member's payable: what was paid, held, and how it is going."""

    __tablename__ = "payout_runs"
    __table_args__ = (
        CheckConstraint("status IN ('requested', 'sending', 'completed')", name="status_known"),
        Index("ix_payout_runs_status", "status"),
        # One run waiting to start at a time: a second request is refused by the database, not
        # by a check that two simultaneous requests could both pass.
        Index(
            "uq_payout_runs_one_requested",
            "status",
            unique=True,
            postgresql_where=text("status = 'requested'"),
            sqlite_where=text("status = 'requested'"),
        ),
    )

    status: Mapped[str] = mapped_column(String(12), nullable=False, default="requested")
    requested_by_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"))
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The minimum payout per currency the run used, e.g. {"EUR": 2000, "CHF": 2000}.
    minimums: Mapped[dict] = mapped_column(JSON, nullable=False, default=dict)
    # Per currency, as written: {"EUR": {"count": n, "amount": x, "held_count": h,
    # "held_amount": y}}; how the payouts fare since is counted from their rows.
    totals: Mapped[dict] = mapped_column(JSON, nullable=False, default=dict)


class Payout(IdMixin, TimestampMixin, Base):
    """Money sent to one member's connected account (or held back, with the reason; released
    once a later payout of the member paid that money out)."""

    __tablename__ = "payouts"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("currency IN ('EUR', 'CHF')", name="currency_known"),
        CheckConstraint(
            "status IN ('pending', 'in_transit', 'paid', 'failed', 'held', 'released')",
            name="status_known",
        ),
        CheckConstraint(
            "(status IN ('held', 'released')) = (hold_reason IS NOT NULL)", name="held_has_reason"
        ),
        CheckConstraint(
            "(status = 'released') = (released_by_id IS NOT NULL)", name="released_by_a_payout"
        ),
        # Paid to a member or to a provider company, never both.
        CheckConstraint("(member_id IS NULL) <> (organisation_id IS NULL)", name="one_payee"),
        Index("ix_payouts_run_id", "run_id", "id"),
        Index("ix_payouts_member_id", "member_id", "id"),
        Index("ix_payouts_organisation_id", "organisation_id", "id"),
        Index("ix_payouts_status", "status"),
    )

    run_id: Mapped[int] = mapped_column(BigId, ForeignKey("payout_runs.id"), nullable=False)
    member_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("members.id"))
    # A provider company's payout (its payable, to its connected account) instead.
    organisation_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("organisations.id"))
    amount: Mapped[int] = mapped_column(BigInteger, nullable=False)
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    status: Mapped[str] = mapped_column(String(12), nullable=False, default="pending")
    hold_reason: Mapped[str | None] = mapped_column(String(200))
    failure_reason: Mapped[str | None] = mapped_column(Text)
    # Where and how the money goes, fixed when the payout is written: a retry sends exactly
    # the same request under the same idempotency key.
    provider: Mapped[str | None] = mapped_column(String(16))
    destination_account: Mapped[str | None] = mapped_column(String(255))
    provider_transfer_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    send_transaction_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("ledger_transactions.id"), unique=True
    )
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # A held payout's money went out with a later payout of the member (paid): that one.
    released_by_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("payouts.id"))
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The provider time (`created`, whole seconds) of the newest bank payout event applied: an
    # older payout.paid / payout.failed is stale and changes nothing.
    bank_event_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # How often the bank sent a paid payout back to the connected account (each return and
    # each later payment is a posting of its own, numbered by this).
    bank_returns: Mapped[int] = mapped_column(
        Integer, nullable=False, default=0, server_default="0"
    )

    @property
    def idempotency_key(self) -> str:
        """The provider idempotency key of the transfer: derived from our id, never changes."""
        return f"payout-{self.id}"
