"""The VAT rate table: which rate is in force when, and dated changes to it.

A rate applies to a country and a category ("standard", "reduced") for a period of whole days,
valid_from to valid_until inclusive (open-ended when null). Periods of one country and category
never overlap. A change is a new period from a day on: the period in force that day ends the
day before (valid_until), so the table stays a gapless history. Nothing is ever rewritten:

- a change may not start before today (documents may already use the rate in force), 422;
- a change may not start on or before the first day of a period that starts later (a change
  already scheduled), 409: periods are added in order.

A temporary rate (DE 16 % / 5 % in the second half of 2020) is two changes: the lower rate
from its first day, the usual rate again from the day after its last.

"Today" is the calendar day in Central European time, which DE, AT and CH share.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from crowd.core.auth import Principal
from crowd.core.db import utcnow
from crowd.core.errors import field_error
from crowd.core.i18n import _
from crowd.extensions import db
from invoicing.errors import NoTaxRate, TaxRateOverlap
from invoicing.models.tax import TaxRate

# The countries the platform works in: suppliers, places of supply and the rate table's.
TAX_COUNTRIES = ("DE", "AT", "CH")
CENTRAL_EUROPE = ZoneInfo("Europe/Berlin")

# The rates migration i24_tax seeds (a frozen copy there): (country, category, rate_bp,
# valid_from, valid_until). The tests put them back after emptying the tables.
DEFAULT_RATES = (
    ("DE", "standard", 1900, date(2007, 1, 1), date(2020, 6, 30)),
    ("DE", "standard", 1600, date(2020, 7, 1), date(2020, 12, 31)),
    ("DE", "standard", 1900, date(2021, 1, 1), None),
    ("DE", "reduced", 700, date(2007, 1, 1), date(2020, 6, 30)),
    ("DE", "reduced", 500, date(2020, 7, 1), date(2020, 12, 31)),
    ("DE", "reduced", 700, date(2021, 1, 1), None),
    ("AT", "standard", 2000, date(2016, 1, 1), None),
    ("AT", "reduced", 1000, date(2016, 1, 1), None),
    ("CH", "standard", 770, date(2018, 1, 1), date(2023, 12, 31)),
    ("CH", "standard", 810, date(2024, 1, 1), None),
    ("CH", "reduced", 250, date(2018, 1, 1), date(2023, 12, 31)),
    ("CH", "reduced", 260, date(2024, 1, 1), None),
)


@dataclass(frozen=True)
class RateChange:
    """A new period and the one it ended (None when no period was in force on its first day)."""

    rate: TaxRate
    ended: TaxRate | None


def local_today() -> date:
    """Today's date in Central European time (DE, AT and CH share it)."""
    return utcnow().astimezone(CENTRAL_EUROPE).date()


def _in_force(country: str, category: str, on: date):
    return select(TaxRate).where(
        TaxRate.country == country,
        TaxRate.category == category,
        TaxRate.valid_from <= on,
        (TaxRate.valid_until.is_(None)) | (TaxRate.valid_until >= on),
    )


def rate(country: str, on: date, category: str = "standard") -> int:
    """The VAT rate in basis points in force in `country` for `category` on the day `on`
    (1900 = 19 %); NoTaxRate (422) when the table has none for that day."""
    found = db.session.scalars(_in_force(country, category, on)).first()
    if found is None:
        raise NoTaxRate(
            _(
                "No {category} VAT rate of {country} is in force on {on}.",
                category=category,
                country=country,
                on=on.isoformat(),
            )
        )
    return found.rate_bp


def list_rates(
    *,
    actor: Principal,
    country: str | None = None,
    category: str | None = None,
    on: date | None = None,
) -> list[TaxRate]:
    """The rate periods, by country, category and first day; only those in force on `on`
    when given."""
    query = select(TaxRate)
    if country is not None:
        query = query.where(TaxRate.country == country)
    if category is not None:
        query = query.where(TaxRate.category == category)
    if on is not None:
        query = query.where(
            TaxRate.valid_from <= on,
            (TaxRate.valid_until.is_(None)) | (TaxRate.valid_until >= on),
        )
    query = query.order_by(TaxRate.country, TaxRate.category, TaxRate.valid_from)
    return list(db.session.scalars(query))


def add_rate(
    *, actor: Principal, country: str, category: str, rate_bp: int, valid_from: date
) -> RateChange:
    """A new rate from `valid_from` (not before today, 422); the period in force that day
    ends the day before. 409 when a period starts on or after `valid_from` already."""
    if valid_from < local_today():
        raise field_error(
            "valid_from",
            _("must not be before today: rates documents may already use do not change"),
        )
    # Row locks (FOR NO KEY UPDATE, in id order): two changes of one rate go one at a time.
    # A first rate of a country has no rows to lock; the exclusion constraint (PostgreSQL)
    # refuses the second of two such inserts.
    periods = db.session.scalars(
        select(TaxRate)
        .where(TaxRate.country == country, TaxRate.category == category)
        .order_by(TaxRate.id)
        .with_for_update(key_share=True)
    ).all()
    ended = None
    for period in periods:
        if period.valid_from >= valid_from:
            raise TaxRateOverlap(
                _(
                    "A {category} rate of {country} starts on {day} already; changes are "
                    "added in order.",
                    category=category,
                    country=country,
                    day=period.valid_from.isoformat(),
                )
            )
        if period.valid_until is None or period.valid_until >= valid_from:
            ended = period
    if ended is not None:
        ended.valid_until = valid_from - timedelta(days=1)
        # The end first: the new period must not overlap it when inserted.
        db.session.flush()
    new = TaxRate(
        country=country,
        category=category,
        rate_bp=rate_bp,
        valid_from=valid_from,
        created_by_user_id=actor.user_id,
    )
    db.session.add(new)
    db.session.flush()
    return RateChange(rate=new, ended=ended)


def seed_default_rates() -> None:
    """Store DEFAULT_RATES (the tests' reset after emptying the tables; the migration seeds
    its own frozen copy)."""
    db.session.add_all(
        TaxRate(
            country=country,
            category=category,
            rate_bp=rate_bp,
            valid_from=valid_from,
            valid_until=valid_until,
        )
        for country, category, rate_bp, valid_from, valid_until in DEFAULT_RATES
    )
