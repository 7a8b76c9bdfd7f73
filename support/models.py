"""Support mediation: tickets, messages, audit trail, resolutions, sanctions, ratings."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from crowd.core.db import Base, BigId, IdMixin, TimestampMixin, UTCDateTime, utcnow

CATEGORIES = (
    "quality_complaint",
    "no_show",
    "damage",
    "payment",
    "behaviour",
    "other",
    "chargeback",
)
# Their resolution is due at a deadline set outside (a chargeback's: the card issuer's evidence
# deadline), which neither a priority change nor waiting on a party moves.
FIXED_DEADLINE_CATEGORIES = ("chargeback",)
# Opened by the platform only (a card issuer's dispute), never chosen or changed by a person.
SYSTEM_CATEGORIES = ("chargeback",)
OPENABLE_CATEGORIES = tuple(c for c in CATEGORIES if c not in SYSTEM_CATEGORIES)
PRIORITIES = ("low", "normal", "high", "urgent")
STATUSES = (
    "new",
    "open",
    "waiting_on_customer",
    "waiting_on_member",
    "in_mediation",
    "resolution_proposed",
    "resolved",
    "closed",
    "escalated",
)
# parties: both the customer and the member; customer / member: that party only (and staff);
# internal: staff only.
VISIBILITIES = ("parties", "customer", "member", "internal")
RESOLUTION_KINDS = ("full_refund", "partial_refund", "release", "split", "goodwill")
RESOLUTION_STATUSES = ("proposed", "accepted", "rejected", "withdrawn", "applied")
SANCTION_KINDS = ("warn", "suspend", "reinstate")
# A community manager's record of a person: a note, or a call / conversation / email with them.
CONTACT_KINDS = ("note", "call", "conversation", "email")
CONTACT_CHANNELS = ("phone", "video", "chat", "email", "in_person", "internal")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Ticket(IdMixin, TimestampMixin, Base):
    __tablename__ = "tickets"
    __table_args__ = (
        CheckConstraint(_in("category", CATEGORIES), name="category_known"),
        CheckConstraint(_in("priority", PRIORITIES), name="priority_known"),
        CheckConstraint(_in("status", STATUSES), name="status_known"),
        CheckConstraint("sla_paused_seconds >= 0", name="paused_non_negative"),
        Index("ix_tickets_status_priority", "status", "priority"),
        # One open dispute per job: a second complaint about it joins the first ticket.
        Index(
            "uq_tickets_open_dispute_job",
            "job_id",
            unique=True,
            postgresql_where=text("dispute AND status <> 'closed'"),
            sqlite_where=text("dispute AND status <> 'closed'"),
        ),
    )

    subject: Mapped[str] = mapped_column(String(200), nullable=False)
    category: Mapped[str] = mapped_column(String(30), nullable=False)
    priority: Mapped[str] = mapped_column(String(10), nullable=False, default="normal")
    status: Mapped[str] = mapped_column(String(30), nullable=False, default="new", index=True)
    # The parties: a ticket about a job has both; about an account, one of them.
    job_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("jobs.id"), index=True)
    customer_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("customers.id"), index=True)
    member_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("members.id"), index=True)
    opened_by_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"), nullable=False)
    # customer, member or staff
    opened_by_role: Mapped[str] = mapped_column(String(20), nullable=False)
    assignee_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"), index=True)
    # A dispute about a job: the job is `disputed` and the member's payout held until resolved.
    dispute: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    # A follow-up of a closed ticket (closed is final).
    follow_up_of_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("tickets.id"))
    # The status to return to when an escalation is taken over.
    status_before_escalation: Mapped[str | None] = mapped_column(String(30))
    # SLA clocks. Due times move later by the time spent waiting on a party.
    first_response_due_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    first_response_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolution_due_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, index=True)
    sla_paused_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sla_paused_seconds: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    first_response_breached_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolution_breached_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    escalation_reason: Mapped[str | None] = mapped_column(String(500))
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # resolved → closed automatically at this time unless a party replies.
    auto_close_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class TicketMessage(IdMixin, Base):
    __tablename__ = "ticket_messages"
    __table_args__ = (
        CheckConstraint(_in("visibility", VISIBILITIES), name="visibility_known"),
        Index("ix_ticket_messages_ticket_id", "ticket_id", "id"),
    )

    ticket_id: Mapped[int] = mapped_column(BigId, ForeignKey("tickets.id"), nullable=False)
    author_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"))
    # customer, member, staff or system
    author_role: Mapped[str] = mapped_column(String(20), nullable=False)
    visibility: Mapped[str] = mapped_column(String(20), nullable=False)
    body: Mapped[str] = mapped_column(Text, nullable=False)
    # Metadata only: [{"filename", "content_type", "size_bytes", "url"}]; files live elsewhere.
    attachments: Mapped[list] = mapped_column(JSON, nullable=False, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)


class TicketMessageFile(Base):
    """A file attached to a ticket message (crowd.core.files, purpose ticket_attachment): read
    by whoever may read the message (an internal note's attachment: staff only)."""

    __tablename__ = "ticket_message_files"
    __table_args__ = (CheckConstraint("position >= 0", name="position_not_negative"),)

    message_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("ticket_messages.id"), primary_key=True
    )
    file_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("stored_files.id"), primary_key=True, unique=True
    )
    position: Mapped[int] = mapped_column(SmallInteger, nullable=False, default=0)


class TicketEvent(IdMixin, Base):
    """The audit trail: every action on a ticket, who did it, and the status it moved."""

    __tablename__ = "ticket_events"
    __table_args__ = (Index("ix_ticket_events_ticket_id", "ticket_id", "id"),)

    ticket_id: Mapped[int] = mapped_column(BigId, ForeignKey("tickets.id"), nullable=False)
    actor_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"))
    # customer, member, staff or system
    actor_role: Mapped[str] = mapped_column(String(20), nullable=False)
    action: Mapped[str] = mapped_column(String(40), nullable=False)
    from_status: Mapped[str | None] = mapped_column(String(30))
    to_status: Mapped[str | None] = mapped_column(String(30))
    data: Mapped[dict] = mapped_column(JSON, nullable=False, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)


class Resolution(IdMixin, Base):
    """A proposed settlement of a ticket and how it was answered and applied.

    Amounts in minor units of the job's currency: `refund_amount` goes back to the customer
    out of the job's payment (the member's earning shrinks in proportion, as for any refund);
    `goodwill_amount` is paid to the customer by the platform on top, the member untouched.
    """

    __tablename__ = "resolutions"
    __table_args__ = (
        CheckConstraint(_in("kind", RESOLUTION_KINDS), name="kind_known"),
        CheckConstraint(_in("status", RESOLUTION_STATUSES), name="status_known"),
        CheckConstraint("refund_amount >= 0", name="refund_non_negative"),
        CheckConstraint("goodwill_amount >= 0", name="goodwill_non_negative"),
        # One live proposal per ticket.
        Index(
            "uq_resolutions_live",
            "ticket_id",
            unique=True,
            postgresql_where=text("status IN ('proposed', 'accepted')"),
            sqlite_where=text("status IN ('proposed', 'accepted')"),
        ),
    )

    ticket_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("tickets.id"), nullable=False, index=True
    )
    job_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("jobs.id"))
    kind: Mapped[str] = mapped_column(String(20), nullable=False)
    refund_amount: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    goodwill_amount: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    currency: Mapped[str | None] = mapped_column(String(3))
    # Whether the dispute went against the member (counts as a lost dispute for levels).
    member_at_fault: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    note: Mapped[str | None] = mapped_column(String(2000))
    status: Mapped[str] = mapped_column(String(20), nullable=False, default="proposed")
    proposed_by_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"), nullable=False)
    proposed_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    # Unanswered by then, the proposal applies (the default outcome).
    respond_by: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, index=True)
    customer_answer: Mapped[str | None] = mapped_column(String(10))
    customer_answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    member_answer: Mapped[str | None] = mapped_column(String(10))
    member_answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    applied_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # parties (both accepted), deadline (default outcome), staff (imposed by a CM)
    applied_by: Mapped[str | None] = mapped_column(String(20))
    refund_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("job_refunds.id"))
    goodwill_transaction_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("ledger_transactions.id")
    )


class Sanction(IdMixin, Base):
    """House-rules enforcement on a member: a warning, a suspension, a reinstatement."""

    __tablename__ = "sanctions"
    __table_args__ = (CheckConstraint(_in("kind", SANCTION_KINDS), name="kind_known"),)

    member_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("members.id"), nullable=False, index=True
    )
    kind: Mapped[str] = mapped_column(String(20), nullable=False)
    reason: Mapped[str] = mapped_column(String(1000), nullable=False)
    ticket_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("tickets.id"))
    created_by_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)


class TicketRating(Base):
    """A party's satisfaction with how a closed ticket was handled."""

    __tablename__ = "ticket_ratings"
    __table_args__ = (CheckConstraint("score BETWEEN 1 AND 5", name="score_range"),)

    ticket_id: Mapped[int] = mapped_column(BigId, ForeignKey("tickets.id"), primary_key=True)
    # customer or member
    party: Mapped[str] = mapped_column(String(10), primary_key=True)
    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"), nullable=False)
    score: Mapped[int] = mapped_column(SmallInteger, nullable=False)
    comment: Mapped[str | None] = mapped_column(String(2000))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)


class StaffContact(IdMixin, Base):
    """A community manager's note about a member or a customer, or a contact with them (a call,
    a conversation, an email), for the contact history the console shows newest first."""

    __tablename__ = "staff_contacts"
    __table_args__ = (
        CheckConstraint(_in("kind", CONTACT_KINDS), name="kind_known"),
        CheckConstraint(_in("channel", CONTACT_CHANNELS), name="channel_known"),
        # About exactly one person: a member or a customer.
        CheckConstraint("(member_id IS NULL) <> (customer_id IS NULL)", name="one_subject"),
        Index("ix_staff_contacts_member_happened", "member_id", "happened_at", "id"),
        Index("ix_staff_contacts_customer_happened", "customer_id", "happened_at", "id"),
    )

    member_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("members.id"))
    customer_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("customers.id"))
    kind: Mapped[str] = mapped_column(String(20), nullable=False)
    channel: Mapped[str] = mapped_column(String(20), nullable=False)
    summary: Mapped[str] = mapped_column(Text, nullable=False)
    happened_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    author_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
