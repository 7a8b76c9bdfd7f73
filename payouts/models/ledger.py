"""Double-entry ledger tables: accounts with kept balances, immutable transactions and entries.

Sign convention: an entry's `amount` > 0 debits its account, < 0 credits it; the entries of a
transaction sum to zero. An account's `balance` is kept in its normal direction (see
payouts.ledger.ACCOUNT_TYPES): debit-normal kinds (asset, expense) hold Σ amount, credit-normal
kinds (liability, revenue) hold −Σ amount — so a member's payable is what we owe them, ≥ 0.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    SmallInteger,
    String,
    UniqueConstraint,
    event,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crowd.core.db import Base, BigId, IdMixin, UTCDateTime, utcnow

__all__ = [
    "ACCOUNT_KINDS",
    "LEDGER_CURRENCIES",
    "LedgerAccount",
    "LedgerBalanceShard",
    "LedgerEntry",
    "LedgerTransaction",
    "ImmutableLedgerError",
]

ACCOUNT_KINDS = ("asset", "liability", "revenue", "expense")
LEDGER_CURRENCIES = ("EUR", "CHF")


class LedgerAccount(IdMixin, Base):
    """One account in one currency, created on first use; its balance moves only by postings."""

    __tablename__ = "ledger_accounts"
    __table_args__ = (
        UniqueConstraint("code", "currency", name="uq_ledger_accounts_code_currency"),
        CheckConstraint("currency IN ('EUR', 'CHF')", name="currency_known"),
        CheckConstraint("kind IN ('asset', 'liability', 'revenue', 'expense')", name="kind_known"),
        # The last line behind the service's check: a protected account never goes below zero.
        CheckConstraint("allow_negative OR balance >= 0", name="balance_not_negative"),
    )

    code: Mapped[str] = mapped_column(String(120), nullable=False)
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    kind: Mapped[str] = mapped_column(String(10), nullable=False)
    member_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("members.id"), index=True)
    balance: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    allow_negative: Mapped[bool] = mapped_column(Boolean, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)


class LedgerBalanceShard(Base):
    """A share of a hot account's balance (payouts.ledger: AccountType.split). Such an
    account's balance is its row's `balance` plus the sum of its shards; a posting adds to the
    shard its unit of work picked, so concurrent postings rarely touch the same row."""

    __tablename__ = "ledger_balance_shards"

    account_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("ledger_accounts.id"), primary_key=True
    )
    shard: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    balance: Mapped[int] = mapped_column(BigInteger, nullable=False)


class LedgerTransaction(IdMixin, Base):
    """A balanced set of entries posted at once; `key` is the client-chosen id of the posting."""

    __tablename__ = "ledger_transactions"
    __table_args__ = (
        CheckConstraint("currency IN ('EUR', 'CHF')", name="currency_known"),
        Index("ix_ledger_transactions_job", "job_id"),
        Index("ix_ledger_transactions_member", "member_id"),
    )

    key: Mapped[str] = mapped_column(String(255), nullable=False, unique=True)
    kind: Mapped[str] = mapped_column(String(40), nullable=False)
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    memo: Mapped[str] = mapped_column(String(500), nullable=False, default="")
    job_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("jobs.id"))
    member_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("members.id"))
    # A correction names the transaction it undoes; each can be reversed at most once.
    reverses_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("ledger_transactions.id"), unique=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)

    entries: Mapped[list[LedgerEntry]] = relationship(
        back_populates="transaction", order_by="LedgerEntry.id"
    )


class LedgerEntry(IdMixin, Base):
    """One line of a transaction: a signed amount on one account (> 0 debit, < 0 credit)."""

    __tablename__ = "ledger_entries"
    __table_args__ = (
        CheckConstraint("amount <> 0", name="amount_not_zero"),
        # An account's statement reads its entries in posting order.
        Index("ix_ledger_entries_account_id", "account_id", "id"),
    )

    transaction_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("ledger_transactions.id"), nullable=False, index=True
    )
    account_id: Mapped[int] = mapped_column(BigId, ForeignKey("ledger_accounts.id"), nullable=False)
    amount: Mapped[int] = mapped_column(BigInteger, nullable=False)

    transaction: Mapped[LedgerTransaction] = relationship(back_populates="entries")
    account: Mapped[LedgerAccount] = relationship(lazy="joined")


class ImmutableLedgerError(RuntimeError):
    """Raised when code tries to change or delete a posted transaction or entry."""


def _refuse_change(mapper, connection, target) -> None:
    raise ImmutableLedgerError(
        f"{type(target).__name__} {target.id} is immutable: correct it with a reversal."
    )


# Posted history is never edited through the ORM; corrections are reversing transactions, and
# balances move only by payouts.ledger's locked UPDATE statements (which these hooks don't see).
for _model in (LedgerAccount, LedgerTransaction, LedgerEntry):
    event.listen(_model, "before_update", _refuse_change)
    event.listen(_model, "before_delete", _refuse_change)
