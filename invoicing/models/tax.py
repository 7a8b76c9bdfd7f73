"""VAT rates as data: one row per country, category and period in force."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from crowd.core.db import Base, BigId, IdMixin, UTCDateTime, utcnow

__all__ = ["TAX_CATEGORIES", "TaxRate"]

# standard: most services (ours: work on site, the platform's fees); reduced: the lower rate.
TAX_CATEGORIES = ("standard", "reduced")


class TaxRate(IdMixin, Base):
    """`rate_bp` (1900 = 19 %) applies in `country` to `category` from valid_from to
    valid_until, both inclusive (open-ended when null).

    Periods of one country and category never overlap: invoicing.tax_rates.add_rate refuses an
    overlap, and on PostgreSQL an exclusion constraint (migration i24_tax) does too. A period
    used for documents is history: rows are added and their end set, never rewritten.
    """

    __tablename__ = "tax_rates"
    __table_args__ = (
        CheckConstraint("category IN ('standard', 'reduced')", name="category_known"),
        CheckConstraint("rate_bp BETWEEN 0 AND 10000", name="rate_range"),
        CheckConstraint("length(country) = 2", name="country_code"),
        CheckConstraint("valid_until IS NULL OR valid_until >= valid_from", name="period_ordered"),
        Index("ix_tax_rates_country_category_from", "country", "category", "valid_from"),
    )

    country: Mapped[str] = mapped_column(String(2), nullable=False)
    category: Mapped[str] = mapped_column(String(20), nullable=False)
    rate_bp: Mapped[int] = mapped_column(Integer, nullable=False)
    valid_from: Mapped[date] = mapped_column(Date, nullable=False)
    valid_until: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    # Null for the rates the migration seeded.
    created_by_user_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"))
