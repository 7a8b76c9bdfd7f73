"""Users and their credentials (session tokens and API keys, stored hashed)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from crowd.core.db import Base, BigId, IdMixin, TimestampMixin, UTCDateTime, utcnow


class User(IdMixin, TimestampMixin, Base):
    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint(
            "role IN ('customer', 'member', 'community_manager', 'admin')", name="role_known"
        ),
        CheckConstraint("locale IS NULL OR locale IN ('de', 'en')", name="locale_known"),
        # The few disabled accounts: matching hashes them once instead of probing per member.
        Index(
            "ix_users_disabled",
            "id",
            postgresql_where=text("disabled_at IS NOT NULL"),
            sqlite_where=text("disabled_at IS NOT NULL"),
        ),
    )

    email: Mapped[str] = mapped_column(String(254), nullable=False, unique=True)
    password_hash: Mapped[str] = mapped_column(String(255), nullable=False)
    role: Mapped[str] = mapped_column(String(32), nullable=False, index=True)
    display_name: Mapped[str] = mapped_column(String(120), nullable=False)
    created_by_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"))
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Why staff deactivated the account (shown to staff; the user sees a generic problem).
    disabled_reason: Mapped[str | None] = mapped_column(String(500))
    # The language of everything the user reads (crowd.core.i18n.LOCALES); None: not chosen,
    # the request's Accept-Language or DEFAULT_LOCALE applies.
    locale: Mapped[str | None] = mapped_column(String(2))

    # The role's profile, if any (customers and members have one; staff do not).


class AuthToken(IdMixin, Base):
    """A bearer credential: a short-lived session token or a long-lived API key."""

    __tablename__ = "auth_tokens"
    __table_args__ = (
        CheckConstraint("kind IN ('session', 'api_key')", name="kind_known"),
        # Sessions have the full access of the role; every API key has its scopes.
        CheckConstraint(
            "(kind = 'session' AND scopes IS NULL) OR (kind = 'api_key' AND scopes IS NOT NULL)",
            name="api_keys_scoped",
        ),
    )

    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"), nullable=False, index=True)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    name: Mapped[str] = mapped_column(String(120), nullable=False)
    token_hash: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    # The first characters, so a user can tell their keys apart without the secret.
    hint: Mapped[str] = mapped_column(String(16), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # An API key's scopes (crowd.core.auth.API_KEY_SCOPES), space-separated; NULL for sessions.
    scopes: Mapped[str | None] = mapped_column(String(200))

    @property
    def active(self) -> bool:
        return self.revoked_at is None and self.expires_at > utcnow()

    @property
    def scope_list(self) -> list[str] | None:
        return self.scopes.split() if self.scopes is not None else None


class PasswordResetToken(IdMixin, Base):
    """A single-use password-reset link: only its SHA-256 is kept, never the secret."""

    __tablename__ = "password_reset_tokens"

    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"), nullable=False, index=True)
    token_hash: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    # Set when the link is redeemed, or when a newer link or a password change voids it.
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class SignInThrottle(Base):
    """Consecutive wrong passwords for one email address, and until when it is locked.

    Keyed by the SHA-256 of the normalised address, whether or not an account has it, so
    that a locked unknown address answers exactly like a locked account.
    """

    __tablename__ = "sign_in_throttles"

    email_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_failed_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, index=True)


ACCOUNT_EVENTS = (
    "password_changed",
    "password_reset_requested",
    "password_reset",
    "sign_in_locked",
    "sign_up_with_existing_email",
    "deactivated",
    "reactivated",
)


class AccountEvent(IdMixin, Base):
    """What happened to an account's access: password changes and resets, locks, deactivation.

    The staff audit log records staff requests without bodies; this keeps the reason and the
    events a user causes themselves.
    """

    __tablename__ = "account_events"
    __table_args__ = (
        CheckConstraint(
            "kind IN (" + ", ".join(f"'{kind}'" for kind in ACCOUNT_EVENTS) + ")",
            name="kind_known",
        ),
        Index("ix_account_events_user_id_id", "user_id", "id"),
    )

    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"), nullable=False)
    kind: Mapped[str] = mapped_column(String(40), nullable=False)
    actor_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"))
    reason: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)


# Where staff alerts go (accounts.staff_alerts): the queue an alert belongs to.
ALERT_QUEUES = ("dispatch", "payments", "tickets", "onboarding", "community")
# How often a staff member gets alerts by email: each at once, a digest, or the inbox only.
ALERT_DIGESTS = ("immediate", "hourly", "daily", "off")


class StaffAlertSettings(Base):
    """A community manager's (or admin's) choice of how alerts reach them beyond the inbox."""

    __tablename__ = "staff_alert_settings"
    __table_args__ = (
        CheckConstraint(
            "digest IN (" + ", ".join(f"'{d}'" for d in ALERT_DIGESTS) + ")", name="digest_known"
        ),
    )

    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"), primary_key=True)
    digest: Mapped[str] = mapped_column(String(10), nullable=False, default="immediate")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)


class StaffAlertDigest(IdMixin, Base):
    """One digest of a CM's alerts of a period (hourly or daily): written once per (user,
    cadence, period start) by whichever run of the digest task gets there first — the key is
    what keeps a second or concurrent run from emailing it again. A period without alerts is
    recorded too (nothing is sent), so the next period starts where this one ended."""

    __tablename__ = "staff_alert_digests"
    __table_args__ = (
        UniqueConstraint("user_id", "cadence", "period_start"),
        CheckConstraint("cadence IN ('hourly', 'daily')", name="cadence_known"),
        CheckConstraint("period_end > period_start", name="period_forward"),
        CheckConstraint("alerts_count >= 0", name="count_not_negative"),
        Index("ix_staff_alert_digests_user_end", "user_id", "period_end"),
    )

    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"), nullable=False)
    cadence: Mapped[str] = mapped_column(String(10), nullable=False)
    period_start: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    period_end: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    alerts_count: Mapped[int] = mapped_column(Integer, nullable=False)
    # The inbox entry whose email delivery carries the digest (None: no alerts, none sent).
    notification_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("notifications.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)


class StaffResponsibility(IdMixin, Base):
    """What a community manager is responsible for: a queue, a region (country, postcode
    prefix) or both; a null part matches anything. Alerts go to the CMs one of whose
    responsibilities matches, else to every CM."""

    __tablename__ = "staff_responsibilities"
    __table_args__ = (
        CheckConstraint(
            "queue IS NULL OR queue IN (" + ", ".join(f"'{q}'" for q in ALERT_QUEUES) + ")",
            name="queue_known",
        ),
        CheckConstraint(
            "queue IS NOT NULL OR country IS NOT NULL OR postcode_prefix IS NOT NULL",
            name="says_something",
        ),
    )

    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"), nullable=False, index=True)
    queue: Mapped[str | None] = mapped_column(String(20))
    country: Mapped[str | None] = mapped_column(String(2))
    postcode_prefix: Mapped[str | None] = mapped_column(String(10))
