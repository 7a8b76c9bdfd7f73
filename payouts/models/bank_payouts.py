"""Bank payouts of the members' connected accounts, and which of our payouts each one carried.

A BankPayout is one payout (`po_…`) a connected account made to the member's bank, as its
payout.paid / payout.failed webhooks report it (UNIQUE provider id). Its items come from the
balance transactions Stripe lists for it (`GET /v1/balance_transactions?payout=po_…` on the
connected account): one item per balance transaction that is one of our transfers, UNIQUE
(bank payout, balance transaction), so a duplicate event or a re-run of the reconciliation
books nothing twice. An item names our payout once its transfer is known to us (`payout_id`
NULL until then: the bank payout was reported before our transfer was recorded).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from crowd.core.db import Base, BigId, IdMixin, TimestampMixin, UTCDateTime, utcnow

__all__ = ["BANK_PAYOUT_STATUSES", "BankPayout", "BankPayoutItem"]

# What Stripe last told us: paid, or failed (final; a paid payout may still fail later).
BANK_PAYOUT_STATUSES = ("paid", "failed")


class BankPayout(IdMixin, TimestampMixin, Base):
    """A connected account's payout to the member's bank, as its webhooks reported it."""

    __tablename__ = "bank_payouts"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("currency IN ('EUR', 'CHF')", name="currency_known"),
        CheckConstraint("status IN ('paid', 'failed')", name="status_known"),
        Index("ix_bank_payouts_unreconciled", "reconciled_at", "id"),
    )

    provider_payout_id: Mapped[str] = mapped_column(String(255), nullable=False, unique=True)
    account: Mapped[str] = mapped_column(String(255), nullable=False)
    amount: Mapped[int] = mapped_column(BigInteger, nullable=False)
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    status: Mapped[str] = mapped_column(String(8), nullable=False)
    arrival_date: Mapped[datetime | None] = mapped_column(UTCDateTime)
    failure_code: Mapped[str | None] = mapped_column(String(100))
    failure_message: Mapped[str | None] = mapped_column(Text)
    # The provider time (`created`, whole seconds) of the newest event applied.
    event_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    # Our payout named in its metadata (a payout we made ourselves); else reconciled by items.
    named_payout_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("payouts.id"))
    # When its balance transactions were read and booked as items (NULL: not yet).
    reconciled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # What the reconciliation could not match (balance transactions of no transfer of ours).
    note: Mapped[str | None] = mapped_column(Text)


class BankPayoutItem(IdMixin, Base):
    """One balance transaction of a bank payout that is (part of) one of our transfers."""

    __tablename__ = "bank_payout_items"
    __table_args__ = (
        UniqueConstraint(
            "bank_payout_id", "balance_transaction_id", name="uq_bank_payout_items_transaction"
        ),
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("currency IN ('EUR', 'CHF')", name="currency_known"),
        Index("ix_bank_payout_items_payout_id", "payout_id"),
        Index("ix_bank_payout_items_transfer_id", "transfer_id"),
    )

    bank_payout_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("bank_payouts.id"), nullable=False
    )
    balance_transaction_id: Mapped[str] = mapped_column(String(255), nullable=False)
    # The payment on the connected account our transfer made (`py_…`), and the transfer.
    source_id: Mapped[str | None] = mapped_column(String(255))
    transfer_id: Mapped[str] = mapped_column(String(255), nullable=False)
    # Our payout, once its transfer is known to us.
    payout_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("payouts.id"))
    amount: Mapped[int] = mapped_column(BigInteger, nullable=False)
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
