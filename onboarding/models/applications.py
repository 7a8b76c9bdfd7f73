"""An applicant's way in: applications, document checks, intro calls and house rules."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from crowd.core.db import Base, BigId, IdMixin, UTCDateTime, utcnow

__all__ = [
    "APPLICATION_STATUSES",
    "DOCUMENT_KINDS",
    "DOCUMENT_STATUSES",
    "INTRO_CALL_STATUSES",
    "Application",
    "DocumentCheck",
    "HouseRulesAcceptance",
    "HouseRulesVersion",
    "InformationRequest",
    "IntroCall",
]

APPLICATION_STATUSES = ("in_progress", "approved", "rejected")
# identity: every applicant; trade_certificate or business_registration: professionals.
DOCUMENT_KINDS = ("identity", "trade_certificate", "business_registration")
DOCUMENT_STATUSES = ("submitted", "verified", "rejected")
INTRO_CALL_STATUSES = ("scheduled", "passed", "failed", "no_show", "cancelled")


class Application(IdMixin, Base):
    """One try of a member to be admitted; a rejected applicant may open another later."""

    __tablename__ = "applications"
    __table_args__ = (
        CheckConstraint("status IN ('in_progress', 'approved', 'rejected')", name="status_known"),
        CheckConstraint(
            "source IN ('referral', 'event', 'partner', 'campaign', 'organic')",
            name="source_known",
        ),
        UniqueConstraint("member_id", "number"),
        # At most one application under way per member (concurrent re-applications: one wins).
        Index(
            "uq_applications_member_open",
            "member_id",
            unique=True,
            postgresql_where=text("status = 'in_progress'"),
            sqlite_where=text("status = 'in_progress'"),
        ),
        # The review queue: applications under way, oldest first (a few among many decided).
        Index(
            "ix_applications_in_progress",
            "id",
            "member_id",
            postgresql_where=text("status = 'in_progress'"),
            sqlite_where=text("status = 'in_progress'"),
        ),
    )

    member_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("members.id"), nullable=False, index=True
    )
    # 1 for the first application, 2 for the first re-application …
    number: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    status: Mapped[str] = mapped_column(
        String(20), nullable=False, default="in_progress", index=True
    )
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"))
    # Approval note or rejection reason (shown to the applicant on rejection).
    reason: Mapped[str | None] = mapped_column(String(1000))
    # A rejected applicant may apply again from this moment (the cool-off period).
    reapply_after: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Where the applicant came from (recruitment.models.SOURCE_KINDS); a re-application
    # keeps the first one's source. channel_id names the event, partner or campaign.
    source: Mapped[str] = mapped_column(
        String(20), nullable=False, default="organic", server_default="organic", index=True
    )
    channel_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("recruitment_channels.id"), index=True
    )


class DocumentCheck(IdMixin, Base):
    """Metadata of an identity document or trade certificate and who checked it.

    We keep what identifies the document — type, issuer, the last characters of its number,
    expiry — and, for an identity document, the images the applicant uploaded until retention
    deletes them.
    """

    __tablename__ = "document_checks"
    __table_args__ = (
        CheckConstraint(
            "kind IN ('identity', 'trade_certificate', 'business_registration')",
            name="kind_known",
        ),
        CheckConstraint("status IN ('submitted', 'verified', 'rejected')", name="status_known"),
        Index("ix_document_checks_member_kind", "member_id", "kind"),
        # The document steps' predicates: a verified check of the member's (few rows).
        Index(
            "ix_document_checks_member_verified",
            "member_id",
            "kind",
            "expires_on",
            postgresql_where=text("status = 'verified'"),
            sqlite_where=text("status = 'verified'"),
        ),
    )

    member_id: Mapped[int] = mapped_column(BigId, ForeignKey("members.id"), nullable=False)
    kind: Mapped[str] = mapped_column(String(30), nullable=False)
    # passport, id_card, residence_permit, meisterbrief, gesellenbrief, gewerbeanmeldung …
    document_type: Mapped[str] = mapped_column(String(40), nullable=False)
    issuer: Mapped[str] = mapped_column(String(200), nullable=False)
    issuing_country: Mapped[str] = mapped_column(String(2), nullable=False)
    # Only the last characters of the document number: enough to recognise it, useless to steal.
    reference_hint: Mapped[str | None] = mapped_column(String(8))
    expires_on: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20), nullable=False, default="submitted")
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    checked_by_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"))
    checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    note: Mapped[str | None] = mapped_column(String(1000))
    # Images of an identity document uploaded from the phone (crowd.core.files, purpose
    # identity_document): its front, its back and a selfie holding it. Only the CMs reviewing
    # the application see them; retention deletes them after the decision and records when
    # (the decision and the metadata above are kept).
    front_file_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("stored_files.id"))
    back_file_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("stored_files.id"))
    selfie_file_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("stored_files.id"))
    images_deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class IntroCall(IdMixin, Base):
    """The intro call of an application with a community manager: when, and how it went."""

    __tablename__ = "intro_calls"
    __table_args__ = (
        CheckConstraint(
            "status IN ('scheduled', 'passed', 'failed', 'no_show', 'cancelled')",
            name="status_known",
        ),
        # The intro call step's predicate: a passed call of the application.
        Index(
            "ix_intro_calls_application_passed",
            "application_id",
            postgresql_where=text("status = 'passed'"),
            sqlite_where=text("status = 'passed'"),
        ),
    )

    application_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("applications.id"), nullable=False, index=True
    )
    member_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("members.id"), nullable=False, index=True
    )
    scheduled_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    scheduled_by_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"), nullable=False)
    status: Mapped[str] = mapped_column(String(20), nullable=False, default="scheduled")
    note: Mapped[str | None] = mapped_column(String(2000))
    recorded_by_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"))
    recorded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)


class InformationRequest(IdMixin, Base):
    """A community manager asked the applicant for more (a clearer document, a missing
    detail): what, by whom and when. The application stays under way; the applicant is told."""

    __tablename__ = "application_info_requests"
    __table_args__ = (Index("ix_application_info_requests_application", "application_id", "id"),)

    application_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("applications.id"), nullable=False
    )
    member_id: Mapped[int] = mapped_column(BigId, ForeignKey("members.id"), nullable=False)
    reason: Mapped[str] = mapped_column(String(1000), nullable=False)
    requested_by_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"), nullable=False)
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)


class HouseRulesVersion(IdMixin, Base):
    """A published version of the house rules; members accept the newest one."""

    __tablename__ = "house_rules_versions"

    version: Mapped[int] = mapped_column(Integer, nullable=False, unique=True)
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    body: Mapped[str] = mapped_column(Text, nullable=False)
    summary_of_changes: Mapped[str | None] = mapped_column(String(2000))
    published_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    published_by_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"))


class HouseRulesAcceptance(Base):
    __tablename__ = "house_rules_acceptances"

    member_id: Mapped[int] = mapped_column(BigId, ForeignKey("members.id"), primary_key=True)
    version_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("house_rules_versions.id"), primary_key=True
    )
    accepted_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
