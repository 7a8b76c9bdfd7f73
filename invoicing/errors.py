"""Named errors of invoicing: VAT rates and how VAT applies to a document."""

from __future__ import annotations

from crowd.core.errors import Conflict, Unprocessable
from crowd.core.i18n import _l


class NoTaxRate(Unprocessable):
    """No VAT rate of the country and category is in force on the date (the detail names
    them): the rate table has a gap, or the country is not covered."""

    title, type_slug = _l("No VAT rate in force"), "no-tax-rate"


class TaxRateOverlap(Conflict):
    """A new VAT rate would overlap a period that starts on or after its first day (the
    detail names that day): periods are added in order, history is not rewritten."""

    title, type_slug = _l("VAT rate periods overlap"), "tax-rate-overlap"


class ReverseChargeNeedsVatId(Unprocessable):
    """Reverse charge applies, but the supplier has no VAT ID: the document must show both
    VAT IDs, so it cannot be issued until the supplier's is recorded."""

    title = _l("Reverse charge needs the supplier's VAT ID")
    type_slug = "reverse-charge-needs-vat-id"
