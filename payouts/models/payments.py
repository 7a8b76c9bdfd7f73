"""What the payment provider knows: connected accounts, webhook events, the offline provider.

The offline tables (`offline_*`) are the payment provider of the embedded default (no
STRIPE_API_KEY): payment intents, refunds, transfers and accounts kept in our own database so
the whole money flow runs without Stripe. They are written in the caller's unit of work.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, Boolean, CheckConstraint, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from crowd.core.db import Base, BigId, IdMixin, TimestampMixin, UTCDateTime, utcnow

__all__ = [
    "PROVIDERS",
    "WEBHOOK_EVENT_STATUSES",
    "ConnectedAccount",
    "OfflineAccount",
    "OfflinePayment",
    "OfflineProviderCall",
    "OfflineRefund",
    "OfflineTransfer",
    "WebhookEvent",
]

PROVIDERS = ("offline", "stripe")
# received → processed | ignored (no handler, stale, unknown object) | failed (retried later).
WEBHOOK_EVENT_STATUSES = ("received", "processed", "ignored", "failed")
# Stripe's PaymentIntent statuses the offline provider uses.
OFFLINE_PAYMENT_STATUSES = ("requires_capture", "succeeded", "canceled")


class ConnectedAccount(IdMixin, TimestampMixin, Base):
    """A member's (or a provider company's) account at the payment provider, where their
    payouts are transferred to."""

    __tablename__ = "connected_accounts"
    __table_args__ = (
        CheckConstraint("provider IN ('offline', 'stripe')", name="provider_known"),
        # A member's or a company's, never both.
        CheckConstraint("(member_id IS NULL) <> (organisation_id IS NULL)", name="one_owner"),
    )

    member_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("members.id"), unique=True)
    organisation_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("organisations.id"), unique=True
    )
    provider: Mapped[str] = mapped_column(String(16), nullable=False)
    provider_account_id: Mapped[str] = mapped_column(String(255), nullable=False, unique=True)
    country: Mapped[str] = mapped_column(String(2), nullable=False)
    payouts_enabled: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    charges_enabled: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    details_submitted: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    # The provider's fingerprint of the bank account payouts go to: two members paid to the
    # same bank account are one person to the referral checks.
    bank_fingerprint: Mapped[str | None] = mapped_column(String(64), index=True)
    # When the provider state applied last was true (an event's `created`, or the time we
    # retrieved the account), in whole seconds: an older account.updated is ignored.
    updated_from_event_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class WebhookEvent(IdMixin, Base):
    """A verified provider event, stored once per event id; its effect is applied once."""

    __tablename__ = "webhook_events"
    __table_args__ = (
        CheckConstraint(
            "status IN ('received', 'processed', 'ignored', 'failed')", name="status_known"
        ),
    )

    event_id: Mapped[str] = mapped_column(String(255), nullable=False, unique=True)
    type: Mapped[str] = mapped_column(String(100), nullable=False, index=True)
    # The provider's time of the event: what out-of-order delivery is judged by.
    created: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    # The connected account the event happened on (Connect events), if any.
    account: Mapped[str | None] = mapped_column(String(255))
    livemode: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    payload: Mapped[dict] = mapped_column(JSON, nullable=False)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="received", index=True)
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    # Why it was ignored, or the error of the last failed attempt.
    note: Mapped[str | None] = mapped_column(Text)

    @property
    def data_object(self) -> dict:
        """The API object the event is about (payload.data.object)."""
        return (self.payload.get("data") or {}).get("object") or {}


# --- the offline provider -------------------------------------------------------------------


class OfflineProviderCall(IdMixin, Base):
    """One offline provider call by idempotency key: the same key replays the stored result."""

    __tablename__ = "offline_provider_calls"

    idempotency_key: Mapped[str] = mapped_column(String(255), nullable=False, unique=True)
    operation: Mapped[str] = mapped_column(String(40), nullable=False)
    # SHA-256 of the operation and its parameters: the same key with other ones is refused.
    fingerprint: Mapped[str] = mapped_column(String(64), nullable=False)
    # {"result": {...}} or {"error": {...}}: what the first call answered.
    response: Mapped[dict] = mapped_column(JSON, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)


class OfflineAccount(Base):
    """A connected account of the offline provider (enabled at once: there is no onboarding)."""

    __tablename__ = "offline_accounts"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    member_id: Mapped[int] = mapped_column(BigId, nullable=False, index=True)
    email: Mapped[str] = mapped_column(String(254), nullable=False)
    country: Mapped[str] = mapped_column(String(2), nullable=False)
    payouts_enabled: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)


class OfflinePayment(Base):
    """An offline payment intent: authorised, then captured (once) and refunded (in parts)."""

    __tablename__ = "offline_payments"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("currency IN ('EUR', 'CHF')", name="currency_known"),
        CheckConstraint(
            "status IN ('requires_action', 'requires_payment_method', 'requires_capture', "
            "'succeeded', 'canceled')",
            name="status_known",
        ),
        CheckConstraint("amount_captured BETWEEN 0 AND amount", name="captured_range"),
        CheckConstraint("amount_refunded BETWEEN 0 AND amount_captured", name="refunded_range"),
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    amount: Mapped[int] = mapped_column(BigInteger, nullable=False)
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    status: Mapped[str] = mapped_column(String(30), nullable=False)
    amount_captured: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    amount_refunded: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    customer_ref: Mapped[str | None] = mapped_column(String(255))
    transfer_group: Mapped[str | None] = mapped_column(String(255), index=True)
    metadata_: Mapped[dict] = mapped_column("metadata", JSON, nullable=False, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    # The simulated 3-D Secure of a test method that requires authentication
    # (requires_action until `flask crowd payments authenticate` completes or fails it).
    client_secret: Mapped[str | None] = mapped_column(String(255))
    last_error_code: Mapped[str | None] = mapped_column(String(100))


class OfflineRefund(Base):
    """A (partial) refund of a captured offline payment."""

    __tablename__ = "offline_refunds"
    __table_args__ = (CheckConstraint("amount > 0", name="amount_positive"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    payment_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("offline_payments.id"), nullable=False, index=True
    )
    amount: Mapped[int] = mapped_column(BigInteger, nullable=False)
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    metadata_: Mapped[dict] = mapped_column("metadata", JSON, nullable=False, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)


class OfflineTransfer(Base):
    """Money sent from the platform to a member's offline connected account."""

    __tablename__ = "offline_transfers"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("currency IN ('EUR', 'CHF')", name="currency_known"),
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    amount: Mapped[int] = mapped_column(BigInteger, nullable=False)
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    destination: Mapped[str] = mapped_column(
        String(64), ForeignKey("offline_accounts.id"), nullable=False, index=True
    )
    transfer_group: Mapped[str | None] = mapped_column(String(255))
    metadata_: Mapped[dict] = mapped_column("metadata", JSON, nullable=False, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
