"""API contract of billing profiles: who documents are addressed to (members and customers)."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from crowd.core.fields import Trimmed
from customers.models import BILLING_COUNTRIES

MEMBERS_ONLY = "Members only."
CUSTOMERS_ONLY = "Customers only."


class BillingProfileSchema(ma.Schema):
    """The party documents name: the profile given, else what they would use without one
    (members: business or display name and the profile's postcode, city and country — no
    street, so `complete` is false; customers: the default service address)."""

    party = ma.fields.String(metadata={"description": "member or customer"})
    legal_name = ma.fields.String(
        allow_none=True, metadata={"description": "Full name as documents print it"}
    )
    street = ma.fields.String(allow_none=True)
    postcode = ma.fields.String(allow_none=True)
    city = ma.fields.String(allow_none=True)
    country = ma.fields.String(allow_none=True, metadata={"description": "ISO 3166-1 alpha-2"})
    vat_id = ma.fields.String(
        allow_none=True,
        metadata={
            "description": "As documents print it: DE136695976, ATU57194903, CHE-107.787.577 MWST"
        },
    )
    tax_number = ma.fields.String(
        allow_none=True,
        metadata={
            "description": f"{MEMBERS_ONLY} DE Steuernummer, AT "
            "Abgabenkontonummer or CH UID, formatted"
        },
    )
    small_business = ma.fields.Boolean(
        metadata={
            "description": f"{MEMBERS_ONLY} Kleinunternehmer (DE §19 UStG, AT §6 (1) "
            "Z 27 UStG; CH: not liable for VAT): documents charge no VAT"
        }
    )
    is_business = ma.fields.Boolean(
        metadata={
            "description": f"{CUSTOMERS_ONLY} A business customer (reverse charge "
            "across borders with a VAT ID; e-invoices in Germany)"
        }
    )
    buyer_reference = ma.fields.String(
        allow_none=True,
        metadata={"description": f"{CUSTOMERS_ONLY} Leitweg-ID or purchase order reference"},
    )
    invoice_email = ma.fields.String(allow_none=True, metadata={"description": CUSTOMERS_ONLY})
    email = ma.fields.String(
        metadata={
            "description": "Where documents are sent (customers: the invoice address, "
            "else the account's)"
        }
    )
    language = ma.fields.String(metadata={"description": "de or en: documents' language"})
    saved = ma.fields.Boolean(metadata={"description": "A billing profile was given"})
    complete = ma.fields.Boolean(
        metadata={"description": "Everything a document needs is there (false: give a profile)"}
    )
    updated_at = ma.fields.DateTime(allow_none=True)


def _text(max_length: int, *, required: bool = False, **kwargs) -> Trimmed:
    if required:
        return Trimmed(required=True, validate=validate.Length(min=1, max=max_length), **kwargs)
    return Trimmed(
        load_default=None, allow_none=True, validate=validate.Length(max=max_length), **kwargs
    )


class BillingProfileReplaceSchema(ma.Schema):
    """A whole billing profile: what is left out is cleared. Fields for the other kind of
    party are refused (422)."""

    legal_name = _text(
        200,
        metadata={
            "description": "Members: required. Customers: left out, the company name "
            "(business) or display name is used"
        },
    )
    street = _text(200, required=True)
    postcode = Trimmed(
        required=True,
        validate=validate.Length(min=2, max=10),
        metadata={"description": "DE: 5 digits, AT and CH: 4 digits; elsewhere as written"},
    )
    city = _text(120, required=True)
    country = ma.fields.String(
        required=True,
        validate=validate.OneOf(BILLING_COUNTRIES),
        metadata={"description": "Members: DE, AT or CH. Customers: also the rest of the EU"},
    )
    vat_id = _text(
        40,
        metadata={
            "description": "An EU VAT ID or a Swiss VAT number (CHE-…MWST) of the "
            "address's country; customers: business customers only"
        },
    )
    tax_number = _text(
        40,
        metadata={
            "description": f"{MEMBERS_ONLY} DE Steuernummer, AT Abgabenkontonummer or CH UID"
        },
    )
    small_business = ma.fields.Boolean(
        metadata={
            "description": f"{MEMBERS_ONLY} Default false: then a VAT ID or a tax "
            "number is required"
        }
    )
    buyer_reference = _text(100, metadata={"description": CUSTOMERS_ONLY})
    invoice_email = ma.fields.Email(
        load_default=None,
        allow_none=True,
        validate=validate.Length(max=254),
        metadata={"description": CUSTOMERS_ONLY},
    )
