"""API contract for customer profiles, service addresses, favourite and blocked members."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from crowd.core.fields import Trimmed
from crowd.core.i18n import _
from crowd.core.pagination import PageArgsSchema
from crowd.core.patterns import Pattern
from crowd.core.postcodes import postcode_problem
from members.models import COUNTRIES

CUSTOMER_KINDS = ("person", "business")


def _name(max_length: int, **kwargs) -> Trimmed:
    return Trimmed(validate=validate.Length(min=1, max=max_length), **kwargs)


Phone = Trimmed(
    allow_none=True,
    validate=[
        validate.Length(max=40),
        Pattern(r"\+?[0-9][0-9 ()/.\-]{2,39}", error="not a phone number"),
    ],
)


# --- profile ---------------------------------------------------------------------------------


class AddressSchema(ma.Schema):
    id = ma.fields.Integer(dump_only=True)
    label = ma.fields.String()
    street = ma.fields.String()
    postcode = ma.fields.String()
    city = ma.fields.String()
    country = ma.fields.String()
    lat = ma.fields.Float()
    lon = ma.fields.Float()
    notes = ma.fields.String(allow_none=True)
    is_default = ma.fields.Boolean(
        metadata={
            "description": "The address jobs use unless another is chosen; exactly one "
            "of a customer's addresses is the default"
        }
    )
    created_at = ma.fields.DateTime()
    updated_at = ma.fields.DateTime()


class CustomerSchema(ma.Schema):
    id = ma.fields.Integer()
    user_id = ma.fields.Integer()
    kind = ma.fields.String(metadata={"description": "person or business"})
    display_name = ma.fields.String()
    company_name = ma.fields.String(allow_none=True)
    phone = ma.fields.String(allow_none=True)
    created_at = ma.fields.DateTime()
    updated_at = ma.fields.DateTime()


class CustomerDetailSchema(CustomerSchema):
    addresses = ma.fields.List(ma.fields.Nested(AddressSchema))


class CustomerUpdateSchema(ma.Schema):
    """Only these fields can be changed; anything else (user_id, id …) is refused with 422."""

    display_name = _name(120)
    phone = Phone
    company_name = _name(200, allow_none=True)
    kind = ma.fields.String(
        validate=validate.OneOf(CUSTOMER_KINDS),
        metadata={"description": "business requires a company_name"},
    )


BILLING = ("card", "invoice")


class CustomerBillingSchema(ma.Schema):
    """How a customer pays, agreed with the platform: set by community managers and admins."""

    customer_id = ma.fields.Integer(attribute="id")
    kind = ma.fields.String()
    billing = ma.fields.String(
        metadata={
            "description": "card: each job's price is authorised on the card before offers go "
            "out; invoice: by agreement (business customers), billed on confirmation"
        }
    )
    payment_terms_days = ma.fields.Integer(
        allow_none=True, metadata={"description": "invoice: days to pay after confirmation"}
    )
    billing_set_by_user_id = ma.fields.Integer(allow_none=True)
    billing_set_at = ma.fields.DateTime(allow_none=True)


class CustomerBillingSetSchema(ma.Schema):
    billing = ma.fields.String(required=True, validate=validate.OneOf(BILLING))
    payment_terms_days = ma.fields.Integer(
        load_default=None,
        allow_none=True,
        validate=validate.Range(min=1, max=120),
        metadata={"description": "required with invoice (1 to 120), absent or null with card"},
    )

    @ma.validates_schema(skip_on_field_errors=True)
    def terms_fit_billing(self, data, **kwargs):
        if data["billing"] == "invoice" and data.get("payment_terms_days") is None:
            raise ma.ValidationError(_("required when billing is invoice"), "payment_terms_days")
        if data["billing"] == "card" and data.get("payment_terms_days") is not None:
            raise ma.ValidationError(_("only with billing invoice"), "payment_terms_days")


class CustomerQueryArgsSchema(PageArgsSchema):
    q = Trimmed(
        validate=validate.Length(min=1, max=100),
        metadata={"description": "Display or company name contains (case-insensitive)"},
    )
    kind = ma.fields.String(validate=validate.OneOf(CUSTOMER_KINDS))
    country = ma.fields.String(
        validate=validate.OneOf(COUNTRIES),
        metadata={"description": "Has at least one address in this country"},
    )


# --- addresses -------------------------------------------------------------------------------


def _address_fields(required: bool) -> dict:
    coordinate = {"required": required, "allow_nan": False}
    return {
        "label": _name(80, required=required),
        "street": _name(200, required=required),
        "postcode": Trimmed(
            required=required,
            validate=validate.Length(min=4, max=10),
            metadata={"description": "DE: 5 digits, AT and CH: 4 digits"},
        ),
        "city": _name(120, required=required),
        "country": ma.fields.String(required=required, validate=validate.OneOf(COUNTRIES)),
        "lat": ma.fields.Float(validate=validate.Range(min=-90, max=90), **coordinate),
        "lon": ma.fields.Float(validate=validate.Range(min=-180, max=180), **coordinate),
        "notes": Trimmed(allow_none=True, validate=validate.Length(max=500)),
    }


class _AddressInput(ma.Schema):
    @ma.validates_schema(skip_on_field_errors=False)
    def postcode_fits_country(self, data, **kwargs):
        # On PATCH only one of the two may be sent; the service checks the merged address.
        if "postcode" in data and "country" in data:
            message = postcode_problem(data["country"], data["postcode"])
            if message:
                raise ma.ValidationError(message, "postcode")


AddressCreateSchema = _AddressInput.from_dict(
    {
        **_address_fields(required=True),
        "is_default": ma.fields.Boolean(
            load_default=False,
            metadata={"description": "Make this the default address (the first one always is)"},
        ),
    },
    name="AddressCreateSchema",
)

AddressUpdateSchema = _AddressInput.from_dict(
    {
        **_address_fields(required=False),
        "is_default": ma.fields.Boolean(
            metadata={
                "description": "true makes this the default; to move the default, set it on "
                "another address (false on the default is refused)"
            }
        ),
    },
    name="AddressUpdateSchema",
)


class AddressListSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(AddressSchema))


# --- favourite and blocked members -----------------------------------------------------------


class ListedMemberSchema(ma.Schema):
    """A member on a customer's favourites or blocked list: only what a customer may see."""

    member_id = ma.fields.Integer()
    display_name = ma.fields.String()
    city = ma.fields.String(allow_none=True)
    average_rating = ma.fields.Float(allow_none=True, metadata={"description": "1–5, or null"})
    created_at = ma.fields.DateTime(metadata={"description": "When it was put on the list"})


class BlockedMemberSchema(ListedMemberSchema):
    reason = ma.fields.String(allow_none=True)


class BlockSchema(ma.Schema):
    reason = Trimmed(
        allow_none=True,
        validate=validate.Length(max=500),
        metadata={"description": "Why (seen by the customer and staff only)"},
    )


class ListedMemberListSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(ListedMemberSchema))


class BlockedMemberListSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(BlockedMemberSchema))
