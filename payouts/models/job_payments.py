"""The money of one job: the customer's payment method, the job's payment and its refunds.

A JobPayment follows the customer's payment for a job at the provider (status, amounts) and
names the ledger transaction that settled it; JobRefund rows are the (partial) refunds of it,
each with the ledger transaction that reversed its share of the split.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, CheckConstraint, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from crowd.core.db import Base, BigId, IdMixin, TimestampMixin, UTCDateTime

__all__ = [
    "JOB_PAYMENT_STATUSES",
    "JOB_REFUND_STATUSES",
    "CustomerPaymentMethod",
    "JobPayment",
    "JobRefund",
]

# pending → authorized → captured → partially_refunded → refunded, or failed / cancelled;
# requires_payment_method (no method on file yet) and requires_action (the customer must
# complete it, e.g. 3-D Secure) wait for the customer; invoiced: the customer pays on
# invoice by agreement (customers.billing), nothing is authorised, the price is booked as
# their receivable on confirmation. Each is described in payouts.schemas.payments.
JOB_PAYMENT_STATUSES = (
    "pending",
    "requires_payment_method",
    "requires_action",
    "authorized",
    "invoiced",
    "captured",
    "partially_refunded",
    "refunded",
    "failed",
    "cancelled",
)
# What was captured: the job's price on confirmation, or a late-cancellation fee.
SETTLEMENT_KINDS = ("job", "cancellation_fee")
JOB_REFUND_STATUSES = ("pending", "succeeded", "failed")
REFUND_SOURCES = ("api", "provider")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class CustomerPaymentMethod(IdMixin, TimestampMixin, Base):
    """The saved payment method a customer's jobs are authorised with (one per customer)."""

    __tablename__ = "customer_payment_methods"

    customer_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("customers.id"), nullable=False, unique=True
    )
    # The provider's id of the method ("pm_…") and of its customer object ("cus_…"), if any.
    payment_method: Mapped[str] = mapped_column(String(255), nullable=False)
    provider_customer_ref: Mapped[str | None] = mapped_column(String(255))


class JobPayment(IdMixin, TimestampMixin, Base):
    """The customer's payment for one job: authorised on assignment, captured on confirmation."""

    __tablename__ = "job_payments"
    __table_args__ = (
        CheckConstraint(_in("status", JOB_PAYMENT_STATUSES), name="status_known"),
        CheckConstraint("currency IN ('EUR', 'CHF')", name="currency_known"),
        CheckConstraint(
            "settlement_kind IS NULL OR " + _in("settlement_kind", SETTLEMENT_KINDS),
            name="settlement_kind_known",
        ),
        CheckConstraint("amount_authorized >= 0", name="authorized_non_negative"),
        CheckConstraint("amount_captured BETWEEN 0 AND amount_authorized", name="captured_range"),
        CheckConstraint("amount_refunded BETWEEN 0 AND amount_captured", name="refunded_range"),
        CheckConstraint(
            "commission_amount IS NULL OR commission_amount >= 0", name="commission_non_negative"
        ),
        CheckConstraint(
            "member_earning IS NULL OR member_earning >= 0", name="earning_non_negative"
        ),
        CheckConstraint("authorize_attempt >= 1", name="attempt_positive"),
        Index("ix_job_payments_status_updated", "status", "updated_at"),
    )

    job_id: Mapped[int] = mapped_column(BigId, ForeignKey("jobs.id"), nullable=False, unique=True)
    customer_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("customers.id"), nullable=False, index=True
    )
    # The member who did the job, set when the settlement is posted; their earning went to
    # their payable, or — when organisation_id is set — to that provider company's payable.
    member_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("members.id"), index=True)
    # The provider company whose payable the settlement credited (the job's company), if any:
    # its refunds and chargeback losses come off the same payable.
    organisation_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("organisations.id"), index=True
    )
    provider: Mapped[str | None] = mapped_column(String(16))
    provider_payment_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    status: Mapped[str] = mapped_column(String(30), nullable=False, default="pending")
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    amount_authorized: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    amount_captured: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    amount_refunded: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    transfer_group: Mapped[str] = mapped_column(String(64), nullable=False)
    # 1 for the first authorisation (idempotency key job-{id}-authorize); a new payment method
    # after a decline makes a new attempt with its own key (job-{id}-authorize-{n}).
    authorize_attempt: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    # The method of the current attempt, fixed before the provider is called so that a retry
    # of the attempt sends the same request under its key; a declined one is not tried again.
    payment_method: Mapped[str | None] = mapped_column(String(255))
    customer_ref: Mapped[str | None] = mapped_column(String(255))
    settlement_kind: Mapped[str | None] = mapped_column(String(20))
    commission_amount: Mapped[int | None] = mapped_column(BigInteger)
    member_earning: Mapped[int | None] = mapped_column(BigInteger)
    plan_code: Mapped[str | None] = mapped_column(String(40))
    # How the commission was reached when the payment settled (payouts.plans.commission_for's
    # breakdown: plan, rate, discount, and why the member was on that plan), kept as it was.
    commission_breakdown: Mapped[dict | None] = mapped_column(JSON)
    settlement_transaction_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("ledger_transactions.id"), unique=True
    )
    # The provider's error code (card_declined, insufficient_funds…) and message, last failure.
    failure_code: Mapped[str | None] = mapped_column(String(100))
    last_error: Mapped[str | None] = mapped_column(Text)
    authorized_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    captured_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # A chargeback: open while dispute_id is set and dispute_closed_at is not.
    dispute_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    dispute_status: Mapped[str | None] = mapped_column(String(40))
    dispute_reason: Mapped[str | None] = mapped_column(String(100))
    dispute_amount: Mapped[int | None] = mapped_column(BigInteger)
    disputed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    dispute_closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Stripe's evidence deadline (evidence_details.due_by) and when our evidence was submitted
    # (at most once: Stripe takes one submission per dispute).
    dispute_evidence_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    dispute_evidence_submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The provider time (`created`, whole seconds) of the newest payment_intent event applied
    # to the current attempt's intent: an older one is stale and changes nothing.
    provider_event_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # requires_action: what the customer's client has to do (the intent's next_action type,
    # e.g. use_stripe_sdk; confirm_payment after an off-session authentication_required) and
    # the intent's client secret it does it with. Shown to the owning customer only.
    next_action_type: Mapped[str | None] = mapped_column(String(40))
    client_secret: Mapped[str | None] = mapped_column(String(255))
    # When the current authorisation lapses at the provider (authorized_at + the validity,
    # JOB_PAYMENTS_AUTHORISATION_VALID_DAYS): the re-authorisation task renews it before.
    authorization_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    # The previous attempt's intent, still holding money until the current one is authorised;
    # released (cancelled at the provider) then, once.
    superseded_payment_id: Mapped[str | None] = mapped_column(String(255))
    # invoiced: when the receivable booked on confirmation falls due (the customer's terms).
    invoice_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def refundable(self) -> int:
        """Captured and not refunded yet (pending refunds are not subtracted here)."""
        return self.amount_captured - self.amount_refunded

    @property
    def dispute_open(self) -> bool:
        return self.dispute_id is not None and self.dispute_closed_at is None


class JobRefund(IdMixin, TimestampMixin, Base):
    """A (partial) refund of a job's captured payment and the ledger reversal of its share."""

    __tablename__ = "job_refunds"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("currency IN ('EUR', 'CHF')", name="currency_known"),
        CheckConstraint(_in("status", JOB_REFUND_STATUSES), name="status_known"),
        CheckConstraint(_in("source", REFUND_SOURCES), name="source_known"),
        CheckConstraint(
            "commission_part IS NULL OR commission_part BETWEEN 0 AND amount",
            name="commission_part_range",
        ),
        CheckConstraint(
            "member_part IS NULL OR member_part BETWEEN 0 AND amount", name="member_part_range"
        ),
    )

    job_payment_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("job_payments.id"), nullable=False, index=True
    )
    job_id: Mapped[int] = mapped_column(BigId, ForeignKey("jobs.id"), nullable=False, index=True)
    amount: Mapped[int] = mapped_column(BigInteger, nullable=False)
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    reason: Mapped[str] = mapped_column(String(500), nullable=False)
    # api: asked for through our API; provider: found in a charge.refunded event (made outside).
    source: Mapped[str] = mapped_column(String(10), nullable=False)
    status: Mapped[str] = mapped_column(String(10), nullable=False, default="pending")
    # Our id of the refund: the provider's idempotency key and the ledger transaction's key.
    key: Mapped[str] = mapped_column(String(255), nullable=False, unique=True)
    provider_refund_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    ledger_transaction_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("ledger_transactions.id"), unique=True
    )
    # How the refund came off the split: the platform's part and the member's (sum = amount);
    # member_receivable is the part of member_part their payable could not cover.
    commission_part: Mapped[int | None] = mapped_column(BigInteger)
    member_part: Mapped[int | None] = mapped_column(BigInteger)
    member_receivable: Mapped[int | None] = mapped_column(BigInteger)
    requested_by_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"))
    last_error: Mapped[str | None] = mapped_column(Text)
    refunded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
