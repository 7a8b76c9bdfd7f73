"""API contract for the VAT rate table."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from invoicing.models.tax import TAX_CATEGORIES
from invoicing.tax_rates import TAX_COUNTRIES


def _country(**kwargs) -> ma.fields.String:
    return ma.fields.String(
        validate=validate.OneOf(TAX_COUNTRIES),
        metadata={"description": "ISO 3166-1 alpha-2: DE, AT or CH", "example": "DE"},
        **kwargs,
    )


def _category(**kwargs) -> ma.fields.String:
    return ma.fields.String(
        validate=validate.OneOf(TAX_CATEGORIES),
        metadata={"description": "standard or reduced"},
        **kwargs,
    )


class TaxRateSchema(ma.Schema):
    """A VAT rate in force in a country for a category from valid_from to valid_until (both
    inclusive; open-ended when null)."""

    id = ma.fields.Integer()
    country = ma.fields.String()
    category = ma.fields.String()
    rate_bp = ma.fields.Integer(metadata={"description": "Basis points: 1900 = 19 %"})
    valid_from = ma.fields.Date()
    valid_until = ma.fields.Date(allow_none=True)
    created_at = ma.fields.DateTime()
    created_by_user_id = ma.fields.Integer(
        allow_none=True, metadata={"description": "Null for the rates the platform came with"}
    )


class TaxRateQueryArgsSchema(ma.Schema):
    country = _country()
    category = _category()
    on = ma.fields.Date(metadata={"description": "Only the rates in force on this day"})


class TaxRateCreateSchema(ma.Schema):
    """A new rate from valid_from (today or later): the period in force that day ends the day
    before."""

    country = _country(required=True)
    category = _category(required=True)
    rate_bp = ma.fields.Integer(
        required=True,
        strict=True,
        validate=validate.Range(0, 10_000),
        metadata={"description": "Basis points: 1900 = 19 %, 810 = 8.1 %", "example": 1900},
    )
    valid_from = ma.fields.Date(
        required=True, metadata={"description": "The first day of the new rate, not before today"}
    )
