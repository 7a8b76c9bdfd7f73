"""Invoicing settings (INVOICING_*): who sells the service to the customer (the model), and
the platform's own particulars as its documents print them."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic_settings import SettingsConfigDict

from crowd.config import SettingsGroup, setting
from crowd.core.settings import current


class InvoicingRules(SettingsGroup):
    model_config = SettingsConfigDict(env_prefix="INVOICING_")
    # Operations change these without a release (PATCH /api/v1/settings); a change applies to
    # documents issued afterwards, never to those issued before.
    ADJUSTABLE: ClassVar[frozenset[str]] = frozenset({"model", "e_invoice_countries"})

    model: Literal["platform", "agent"] = setting(
        "platform",
        "who sells the work to the customer. platform: the platform sells it (its invoice, its "
        "VAT) and buys it from the member, who gets a self-billing credit note (Gutschrift) for "
        "their earning; agent: the member sells it, the platform issues the customer's invoice "
        "in the member's name (the member's VAT status applies) and invoices the member its "
        "commission. Monthly flat fees are invoiced to the member under both models",
    )
    platform_name: str = setting("Crowd GmbH", "the platform's legal name on its documents")
    platform_street: str = setting("Musterstraße 1", "the platform's street and number")
    platform_postcode: str = setting("10115", "the platform's postcode")
    platform_city: str = setting("Berlin", "the platform's city")
    platform_country: Literal["DE", "AT", "CH"] = setting(
        "DE", "the platform's country (the place of supply of its own services to consumers)"
    )
    platform_vat_id: str = setting(
        "DE136695976", "the platform's VAT ID (USt-IdNr.), printed on every document it issues"
    )
    platform_email: str = setting("rechnung@crowd.example", "where recipients ask about documents")
    e_invoice_countries: tuple[Literal["DE", "AT", "CH"], ...] = setting(
        ("DE",),
        "business recipients in these countries get a structured e-invoice (ZUGFeRD: the "
        "EN 16931 XML embedded in the PDF)",
        form='JSON like ["DE"]',
    )


def invoicing_rules() -> InvoicingRules:
    """The invoicing settings in force: INVOICING_* settings, then the admins' changes."""
    return current(InvoicingRules)
