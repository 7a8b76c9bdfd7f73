"""Customer profiles, their service addresses, favourite and blocked members."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crowd.core.db import Base, BigId, IdMixin, TimestampMixin, UTCDateTime, utcnow
from crowd.core.tax_ids import EU_COUNTRIES

# Where a customer may be billed: the countries we serve and the rest of the EU.
BILLING_COUNTRIES = tuple(sorted({"CH", *EU_COUNTRIES}))


class Customer(IdMixin, TimestampMixin, Base):
    __tablename__ = "customers"
    __table_args__ = (
        CheckConstraint("kind IN ('person', 'business')", name="kind_known"),
        CheckConstraint("billing IN ('card', 'invoice')", name="billing_known"),
        # Invoicing is by agreement on payment terms: days to pay, and only with them.
        CheckConstraint(
            "(billing = 'invoice') = (payment_terms_days IS NOT NULL)", name="terms_with_invoice"
        ),
        CheckConstraint(
            "payment_terms_days IS NULL OR payment_terms_days BETWEEN 1 AND 120",
            name="terms_range",
        ),
        # The console's search: exact phone, name prefix (see search_customers).
        Index("ix_customers_phone", "phone"),
        Index(
            "ix_customers_name_prefix",
            func.lower(text("display_name")).label("name_lower"),
            postgresql_ops={"name_lower": "text_pattern_ops"},
        ),
        Index(
            "ix_customers_company_prefix",
            func.lower(text("company_name")).label("company_lower"),
            postgresql_ops={"company_lower": "text_pattern_ops"},
        ),
    )

    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"), nullable=False, unique=True)
    kind: Mapped[str] = mapped_column(String(20), nullable=False, default="person")
    display_name: Mapped[str] = mapped_column(String(120), nullable=False)
    company_name: Mapped[str | None] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(40))
    # How the customer pays: "card" (authorised before any offer goes out) or "invoice" by
    # agreement (business customers; billed on confirmation, due after payment_terms_days).
    # Set by community managers and admins only, who and when recorded.
    billing: Mapped[str] = mapped_column(
        String(10), nullable=False, default="card", server_default="card"
    )
    payment_terms_days: Mapped[int | None] = mapped_column(Integer)
    # The staff user's id (no foreign key: a second one to users would make every implicit
    # join of customers and users ambiguous).
    billing_set_by_user_id: Mapped[int | None] = mapped_column(BigId)
    billing_set_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    addresses: Mapped[list[CustomerAddress]] = relationship(
        cascade="all, delete-orphan", order_by="CustomerAddress.id"
    )


class CustomerAddress(IdMixin, TimestampMixin, Base):
    """A place where work is done; coordinates are given by the client (no geocoder)."""

    __tablename__ = "customer_addresses"
    __table_args__ = (
        CheckConstraint("country IN ('DE', 'AT', 'CH')", name="country_known"),
        CheckConstraint("lat BETWEEN -90 AND 90 AND lon BETWEEN -180 AND 180", name="coords_range"),
        # At most one default address per customer, whatever the service does.
        Index(
            "uq_customer_addresses_one_default",
            "customer_id",
            unique=True,
            postgresql_where=text("is_default"),
            sqlite_where=text("is_default"),
        ),
    )

    customer_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("customers.id"), nullable=False, index=True
    )
    label: Mapped[str] = mapped_column(String(80), nullable=False)
    street: Mapped[str] = mapped_column(String(200), nullable=False)
    postcode: Mapped[str] = mapped_column(String(10), nullable=False)
    city: Mapped[str] = mapped_column(String(120), nullable=False)
    country: Mapped[str] = mapped_column(String(2), nullable=False)
    lat: Mapped[float] = mapped_column(Float, nullable=False)
    lon: Mapped[float] = mapped_column(Float, nullable=False)
    notes: Mapped[str | None] = mapped_column(String(500))
    is_default: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)


class FavouriteMember(Base):
    __tablename__ = "customer_favourites"

    customer_id: Mapped[int] = mapped_column(BigId, ForeignKey("customers.id"), primary_key=True)
    member_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("members.id"), primary_key=True, index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)


class BlockedMember(Base):
    """A member this customer never wants offered their jobs (matching excludes them)."""

    __tablename__ = "customer_blocks"

    customer_id: Mapped[int] = mapped_column(BigId, ForeignKey("customers.id"), primary_key=True)
    member_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("members.id"), primary_key=True, index=True
    )
    reason: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)


class CustomerBillingProfile(Base):
    """Who the customer's invoices are addressed to: written whole by
    customers/billing_profile.py, which checks the form. Without one, documents use the
    customer's default address (see billing_parties)."""

    __tablename__ = "customer_billing_profiles"
    __table_args__ = (
        # DE, AT, CH and the other EU member states (crowd.core.tax_ids.EU_COUNTRIES).
        CheckConstraint(
            f"country IN ({', '.join(repr(c) for c in BILLING_COUNTRIES)})", name="country_known"
        ),
    )

    customer_id: Mapped[int] = mapped_column(BigId, ForeignKey("customers.id"), primary_key=True)
    # The company (business customers) or the person as invoices name them; None: the
    # customer's company or display name, whatever it is when a document is made.
    legal_name: Mapped[str | None] = mapped_column(String(200))
    street: Mapped[str] = mapped_column(String(200), nullable=False)
    postcode: Mapped[str] = mapped_column(String(10), nullable=False)
    city: Mapped[str] = mapped_column(String(120), nullable=False)
    country: Mapped[str] = mapped_column(String(2), nullable=False)
    # Business customers: their VAT ID, normalised (crowd.core.tax_ids); reverse charge needs it.
    vat_id: Mapped[str | None] = mapped_column(String(40))
    # On e-invoices (EN 16931 BT-10): a public buyer's Leitweg-ID or a purchase order reference.
    buyer_reference: Mapped[str | None] = mapped_column(String(100))
    # Where invoices go, when not to the account's address.
    invoice_email: Mapped[str | None] = mapped_column(String(254))
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime, nullable=False, default=utcnow, onupdate=utcnow
    )
