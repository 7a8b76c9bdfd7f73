"""Issued documents and their number series.

A document is immutable once issued: the database refuses to change or delete its row (a
trigger on both engines), so a mistake is put right only by a correction that refers to it.
It is stored with the figures it was made from (`data`, invoicing.document.DocumentData as
JSON), its PDF and, for an e-invoice, the EN 16931 XML embedded in that PDF.

Numbers run without gaps per series and year: the series' counter row is advanced in the same
transaction that inserts the document, under the row's lock, so a rolled-back issue gives its
number back and two issues never take the same one (invoicing.numbering).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column

from crowd.core.db import Base, BigId, IdMixin, UTCDateTime, utcnow

__all__ = ["Document", "DocumentCounter"]


class DocumentCounter(Base):
    """The last number issued in a series and year."""

    __tablename__ = "document_counters"
    __table_args__ = (CheckConstraint("last_number >= 0", name="last_not_negative"),)

    series: Mapped[str] = mapped_column(String(40), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_number: Mapped[int] = mapped_column(Integer, nullable=False, default=0)


class Document(IdMixin, Base):
    __tablename__ = "documents"
    __table_args__ = (
        CheckConstraint(
            "kind IN ('invoice', 'self_billing_credit', 'fee_invoice', 'correction')",
            name="kind_known",
        ),
        CheckConstraint(
            "scheme IN ('standard', 'small_business', 'reverse_charge')", name="scheme_known"
        ),
        CheckConstraint("recipient_type IN ('customer', 'member')", name="recipient_known"),
        CheckConstraint("language IN ('de', 'en')", name="language_known"),
        CheckConstraint("currency IN ('EUR', 'CHF')", name="currency_known"),
        CheckConstraint("net_total + vat_total = gross_total", name="totals_add_up"),
        CheckConstraint(
            "(kind = 'correction') = (corrects_id IS NOT NULL)", name="correction_refers"
        ),
        CheckConstraint("sequence >= 1", name="sequence_positive"),
        Index("uq_documents_series_number", "series", "year", "sequence", unique=True),
        Index("ix_documents_customer_issued", "customer_id", "issue_date"),
        Index("ix_documents_member_issued", "member_id", "issue_date"),
        Index("ix_documents_issue_date", "issue_date", "id"),
    )

    number: Mapped[str] = mapped_column(String(60), nullable=False, unique=True)
    series: Mapped[str] = mapped_column(String(40), nullable=False)
    year: Mapped[int] = mapped_column(Integer, nullable=False)
    sequence: Mapped[int] = mapped_column(Integer, nullable=False)
    kind: Mapped[str] = mapped_column(String(30), nullable=False)
    # What it was made for, once: e.g. "settlement:812:invoice" (invoicing.issuing).
    source_key: Mapped[str] = mapped_column(String(120), nullable=False, unique=True)
    recipient_type: Mapped[str] = mapped_column(String(10), nullable=False)
    customer_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("customers.id"))
    member_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("members.id"))
    # The provider company on the crowd's side (recipient_type "member" for the company's
    # credit note or commission invoice, or the seller of an invoice issued in its name): its
    # owners and dispatchers read the document, its technician does not (member_id is None).
    organisation_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("organisations.id"), index=True
    )
    job_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("jobs.id"), index=True)
    corrects_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("documents.id"), index=True)
    ledger_transaction_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("ledger_transactions.id"), index=True
    )
    # Whether the platform issued it in the seller's name — the member's, or the company's with
    # organisation_id (the agent model's customer invoice).
    on_behalf_of_member: Mapped[bool] = mapped_column(nullable=False, default=False)
    language: Mapped[str] = mapped_column(String(2), nullable=False)
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    scheme: Mapped[str] = mapped_column(String(20), nullable=False)
    net_total: Mapped[int] = mapped_column(BigInteger, nullable=False)
    vat_total: Mapped[int] = mapped_column(BigInteger, nullable=False)
    gross_total: Mapped[int] = mapped_column(BigInteger, nullable=False)
    issue_date: Mapped[date] = mapped_column(Date, nullable=False)
    service_date: Mapped[date] = mapped_column(Date, nullable=False)
    data: Mapped[dict] = mapped_column(JSON, nullable=False)
    pdf: Mapped[bytes] = mapped_column(LargeBinary, nullable=False, deferred=True)
    pdf_sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    # The EN 16931 XML embedded in the PDF (ZUGFeRD / Factur-X) of an e-invoice, else None.
    xml: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
