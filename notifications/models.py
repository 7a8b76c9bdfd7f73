"""The in-app inbox (one row per notification), its deliveries to further channels (email,
push), what the offline email provider kept, suppressed addresses, preferences and consents."""

from __future__ import annotations

from datetime import datetime, time

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    Time,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from crowd.core.db import Base, BigId, IdMixin, UTCDateTime, utcnow


class Notification(IdMixin, Base):
    __tablename__ = "notifications"
    __table_args__ = (
        Index("ix_notifications_user_created", "user_id", "id"),
        # Retention deletes the inbox entries older than its period (privacy.enforcement).
        Index("ix_notifications_created_at", "created_at"),
    )

    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"), nullable=False)
    # e.g. offer.new, offer.withdrawn, job.assigned, job.reminder, job.cancelled …
    kind: Mapped[str] = mapped_column(String(60), nullable=False)
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    body: Mapped[str] = mapped_column(Text, nullable=False, default="")
    data: Mapped[dict] = mapped_column(JSON, nullable=False, default=dict)
    # Makes a re-run of the writing job harmless: one notification per event.
    dedupe_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Notifications counted together ("broadcast:12"): see NotificationTally.
    tally_key: Mapped[str | None] = mapped_column(String(100))


class NotificationTally(Base):
    """How many notifications of one `tally_key` reached the inbox and were read (channel
    `inbox`, status `delivered` / `read`), and how many of their deliveries are in each status
    per channel (`email` / `push`, `queued` … `suppressed`).

    Kept by database triggers (migration i22_tally) on every insert into `notifications` and
    `deliveries` and every change of a read time or a status, whatever code path makes it, so
    a broadcast's reach is a sum over a few rows instead of a join over its recipients. The
    counts are sharded (PostgreSQL: 16 shards by the writing transaction's id, so concurrent
    batches do not wait on one row): read them summed over `shard` (`tallies()`). A migration
    that rebuilds either table (SQLite batch mode) must create the triggers again.
    """

    __tablename__ = "notification_tallies"

    tally_key: Mapped[str] = mapped_column(String(100), primary_key=True)
    channel: Mapped[str] = mapped_column(String(20), primary_key=True)
    status: Mapped[str] = mapped_column(String(16), primary_key=True)
    shard: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    count: Mapped[int] = mapped_column(BigInteger, nullable=False)


class OutboundEmail(IdMixin, Base):
    """An email as the offline provider kept it (no SMTP relay configured): rendered, with its
    headers, readable by admins and `flask crowd outbox`; `pending` means never relayed."""

    __tablename__ = "outbound_emails"
    __table_args__ = (
        CheckConstraint("status IN ('pending', 'sent', 'failed')", name="status_known"),
    )

    to_address: Mapped[str] = mapped_column(String(320), nullable=False)
    user_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"), index=True)
    subject: Mapped[str] = mapped_column(String(200), nullable=False)
    body: Mapped[str] = mapped_column(Text, nullable=False)
    html: Mapped[str | None] = mapped_column(Text)
    headers: Mapped[dict] = mapped_column(JSON, nullable=False, default=dict)
    message_id: Mapped[str | None] = mapped_column(String(200))
    delivery_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("deliveries.id"), index=True)
    # The delivery's key (its notification's dedupe key): one email per event.
    dedupe_key: Mapped[str] = mapped_column(String(200), nullable=False, unique=True)
    status: Mapped[str] = mapped_column(String(20), nullable=False, default="pending")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


DELIVERY_STATUSES = ("queued", "sending", "sent", "failed", "suppressed")


class Delivery(IdMixin, Base):
    """One notification on one channel beyond the inbox (email, push): queued with the
    notification, then sent, failed or suppressed by the sender (notifications.delivery)."""

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("notification_id", "channel"),
        CheckConstraint(
            "status IN ('queued', 'sending', 'sent', 'failed', 'suppressed')", name="status_known"
        ),
        # The sender's question: which queued deliveries are due.
        Index("ix_deliveries_due", "status", "next_attempt_at"),
    )

    notification_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("notifications.id"), nullable=False
    )
    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"), nullable=False, index=True)
    kind: Mapped[str] = mapped_column(String(60), nullable=False)
    channel: Mapped[str] = mapped_column(String(20), nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="queued")
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    # While `sending`: the claim lapses then, and the sweeper may try again (a dead worker).
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Where it went (the address at the time of sending) and what the provider answered.
    address: Mapped[str | None] = mapped_column(String(320))
    last_error: Mapped[str | None] = mapped_column(Text)
    provider_message_id: Mapped[str | None] = mapped_column(String(200))
    # What this channel says instead of the notification's body (a reset code the inbox
    # must not show); None: the notification's own title and body.
    content: Mapped[dict | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Its notification's tally key (copied when queued): see NotificationTally.
    tally_key: Mapped[str | None] = mapped_column(String(100))


class Suppression(IdMixin, Base):
    """An address a channel no longer sends to (a permanent failure, a bounce, a complaint)."""

    __tablename__ = "suppressions"
    __table_args__ = (UniqueConstraint("channel", "address"),)

    channel: Mapped[str] = mapped_column(String(20), nullable=False)
    address: Mapped[str] = mapped_column(String(320), nullable=False)
    reason: Mapped[str] = mapped_column(Text, nullable=False)
    delivery_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("deliveries.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)


class NotificationPreference(IdMixin, Base):
    """A user's choice for one kind on one channel, instead of the kind's default."""

    __tablename__ = "notification_preferences"
    __table_args__ = (UniqueConstraint("user_id", "kind", "channel"),)

    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"), nullable=False)
    kind: Mapped[str] = mapped_column(String(60), nullable=False)
    channel: Mapped[str] = mapped_column(String(20), nullable=False)
    enabled: Mapped[bool] = mapped_column(Boolean, nullable=False)
    # api (the preferences endpoint) or unsubscribe (a link in an email).
    source: Mapped[str] = mapped_column(String(20), nullable=False, default="api")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)


class DeliverySettings(Base):
    """A user's time zone and quiet hours (local times; end before start spans midnight)."""

    __tablename__ = "delivery_settings"

    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"), primary_key=True)
    time_zone: Mapped[str] = mapped_column(String(64), nullable=False, default="Europe/Berlin")
    quiet_start: Mapped[time | None] = mapped_column(Time)
    quiet_end: Mapped[time | None] = mapped_column(Time)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)


class Consent(IdMixin, Base):
    """A user's current consent to a marketing topic (e.g. newsletter); its history is in
    consent_events, never overwritten."""

    __tablename__ = "consents"
    __table_args__ = (UniqueConstraint("user_id", "topic"),)

    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"), nullable=False)
    topic: Mapped[str] = mapped_column(String(40), nullable=False)
    granted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ConsentEvent(IdMixin, Base):
    """One step of a consent: requested, granted or withdrawn — when, how, which text."""

    __tablename__ = "consent_events"
    __table_args__ = (
        CheckConstraint("action IN ('requested', 'granted', 'withdrawn')", name="action_known"),
    )

    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"), nullable=False, index=True)
    topic: Mapped[str] = mapped_column(String(40), nullable=False)
    action: Mapped[str] = mapped_column(String(16), nullable=False)
    # double_opt_in (the emailed link), api (withdrawn by the user), unsubscribe (an email link).
    method: Mapped[str] = mapped_column(String(20), nullable=False)
    text_version: Mapped[str] = mapped_column(String(40), nullable=False)
    ip_address: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
