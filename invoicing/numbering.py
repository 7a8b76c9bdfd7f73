"""Document numbers without gaps: one series per kind of document (and per member for the
invoices the platform issues in a member's name), counted afresh each year.

`take` advances the series' counter row in the caller's transaction with one statement (an
upsert that returns the new value). The row stays locked until that transaction ends, so a
second issuer of the same series waits for the first; if the first rolls back, its number is
given back with it. Numbers are therefore dense and unique — what §14 UStG asks ("fortlaufende
Nummer, einmalig vergeben") and what an auditor checks. The price is that issues of one series
run one at a time: the lock is held from the number to the commit, which the issuing task keeps
short (invoicing.issuing renders before it takes the number where it can't — see there).
"""

from __future__ import annotations

from sqlalchemy import text

from crowd.extensions import db

# The series' prefixes (German, as German accountants read them): Rechnung, Gutschrift,
# Provisions-/Plattformrechnung, Korrektur.
PREFIXES = {
    "invoice": "RE",
    "self_billing_credit": "GS",
    "fee_invoice": "PR",
    "correction": "KR",
}

_TAKE = text(
    "INSERT INTO document_counters (series, year, last_number) VALUES (:series, :year, 1) "
    "ON CONFLICT (series, year) DO UPDATE "
    "SET last_number = document_counters.last_number + 1 RETURNING last_number"
)


def series_for(
    kind: str, *, in_name_of_member: int | None = None, in_name_of_organisation: int | None = None
) -> str:
    """The series of a document kind; a member's (or a provider company's) own series when the
    platform issues the document in their name (each seller numbers their invoices in a
    series of their own)."""
    prefix = PREFIXES[kind]
    if in_name_of_organisation:
        return f"{prefix}-O{in_name_of_organisation}"
    return f"{prefix}-M{in_name_of_member}" if in_name_of_member else prefix


def take(series: str, year: int) -> int:
    """The next number of `series` in `year`, held for the caller's transaction."""
    return db.session.execute(_TAKE, {"series": series, "year": year}).scalar_one()


def format_number(series: str, year: int, sequence: int) -> str:
    """E.g. RE-2026-000042, RE-M17-2026-000003."""
    return f"{series}-{year}-{sequence:06d}"
