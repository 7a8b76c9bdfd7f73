"""Provider companies, who belongs to them in which role, and the invitations to join one."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from crowd.core.db import Base, BigId, IdMixin, TimestampMixin, UTCDateTime, utcnow

ORGANISATION_STATUSES = ("pending", "active", "suspended", "closed")
ROLES = ("owner", "dispatcher", "technician")
# A community manager's decision on the company's business checks (trade register, insurance).
CHECK_DECISIONS = ("verified", "rejected")
MEMBERSHIP_STATUSES = ("active", "left", "removed")
COUNTRIES = ("DE", "AT", "CH")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Organisation(IdMixin, TimestampMixin, Base):
    """A provider company: the party that holds the contract, the insurance and (in later
    slices) the plan, the payout account and the documents; its technicians are members."""

    __tablename__ = "organisations"
    __table_args__ = (
        CheckConstraint(_in("status", ORGANISATION_STATUSES), name="status_known"),
        CheckConstraint(_in("country", COUNTRIES), name="country_known"),
        # A company names a VAT ID or a national tax number on its documents.
        CheckConstraint("vat_id IS NOT NULL OR tax_number IS NOT NULL", name="tax_id_given"),
        # A trade register entry is a court and a number, or nothing.
        CheckConstraint(
            "(register_court IS NULL) = (register_number IS NULL)", name="register_whole"
        ),
        CheckConstraint(_in("checks_decision", CHECK_DECISIONS), name="checks_decision_known"),
        # A decision is someone's, at a time; an acceptance of the house rules likewise.
        CheckConstraint(
            "(checks_decision IS NULL) = (checks_decided_at IS NULL)", name="checks_decided_when"
        ),
        CheckConstraint(
            "(house_rules_version IS NULL) = (house_rules_accepted_at IS NULL)",
            name="house_rules_accepted_when",
        ),
        Index("ix_organisations_status", "status"),
    )

    legal_name: Mapped[str] = mapped_column(String(200), nullable=False)
    trade_name: Mapped[str | None] = mapped_column(String(200))
    street: Mapped[str] = mapped_column(String(200), nullable=False)
    postcode: Mapped[str] = mapped_column(String(10), nullable=False)
    city: Mapped[str] = mapped_column(String(120), nullable=False)
    country: Mapped[str] = mapped_column(String(2), nullable=False)
    # Normalised by crowd.core.tax_ids, as the billing profiles keep them.
    vat_id: Mapped[str | None] = mapped_column(String(40))
    tax_number: Mapped[str | None] = mapped_column(String(40))
    # The trade register entry (Handelsregister, Firmenbuch, Handelsregister CH), if any.
    register_court: Mapped[str | None] = mapped_column(String(120))
    register_number: Mapped[str | None] = mapped_column(String(40))
    # The liability insurance certificate: an upload of purpose insurance_certificate, set by
    # the owner (organisations.onboarding).
    insurance_file_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("stored_files.id"))
    # pending (registered, waiting for a CM) → active | suspended | closed.
    status: Mapped[str] = mapped_column(String(20), nullable=False, default="pending")
    # Whether technicians may accept offers themselves, or only the dispatcher assigns.
    allow_direct_accept: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    status_changed_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    # The company's onboarding (organisations.checks): the house rules version its owner
    # accepted for it (a number of onboarding's house rules versions), when and by whom …
    house_rules_version: Mapped[int | None] = mapped_column(Integer)
    house_rules_accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    house_rules_accepted_by_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("members.id"))
    # … and a community manager's decision on its business checks: trade register entry (where
    # it has one) and insurance certificate seen; a new certificate asks for a new decision.
    checks_decision: Mapped[str | None] = mapped_column(String(20))
    checks_decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    checks_decided_by_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"))
    checks_note: Mapped[str | None] = mapped_column(String(500))


class OrganisationMembership(IdMixin, Base):
    """A member's time in a company: one active membership per member at a time; the member's
    own record (profile, skills, jobs, reviews, level) stays theirs when it ends."""

    __tablename__ = "organisation_memberships"
    __table_args__ = (
        CheckConstraint(_in("role", ROLES), name="role_known"),
        CheckConstraint(_in("status", MEMBERSHIP_STATUSES), name="status_known"),
        CheckConstraint("(status = 'active') = (left_at IS NULL)", name="left_when_ended"),
        Index(
            "uq_organisation_memberships_one_active",
            "member_id",
            unique=True,
            postgresql_where=text("status = 'active'"),
            sqlite_where=text("status = 'active'"),
        ),
        Index("ix_organisation_memberships_organisation", "organisation_id", "status"),
    )

    organisation_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("organisations.id"), nullable=False
    )
    member_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("members.id"), nullable=False, index=True
    )
    role: Mapped[str] = mapped_column(String(20), nullable=False)
    status: Mapped[str] = mapped_column(String(20), nullable=False, default="active")
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    left_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class OrganisationInvitation(IdMixin, Base):
    """An invitation by email link to join a company in a role; only the token's SHA-256 is
    kept (the link goes to the address and nowhere else)."""

    __tablename__ = "organisation_invitations"
    __table_args__ = (
        CheckConstraint(_in("role", ROLES), name="role_known"),
        CheckConstraint("NOT (accepted_at IS NOT NULL AND revoked_at IS NOT NULL)", name="one_end"),
        Index("ix_organisation_invitations_organisation", "organisation_id", "created_at"),
    )

    organisation_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("organisations.id"), nullable=False
    )
    # Normalised (lower case): accepting needs an account with this address.
    email: Mapped[str] = mapped_column(String(254), nullable=False)
    role: Mapped[str] = mapped_column(String(20), nullable=False)
    token_hash: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    invited_by_id: Mapped[int] = mapped_column(BigId, ForeignKey("members.id"), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    accepted_member_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("members.id"))
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
