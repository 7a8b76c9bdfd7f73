"""API contract for posting a job: what a customer (or API key) sends to POST /api/v1/jobs.

The shape of the order is checked here (types, ranges, window order and overlap, postcode per
country, the pricing variant); what needs the database — category and skills, the customer's
own address, the currency of the address's country, the preferred member — is checked by
jobs.posting, which answers 422 naming the field as well.
"""

from __future__ import annotations

from datetime import timedelta

import marshmallow as ma
from marshmallow import validate

from crowd.core.db import utcnow
from crowd.core.fields import Amount, Trimmed
from crowd.core.i18n import _
from crowd.core.postcodes import postcode_problem
from jobs.models import CURRENCIES
from members.models import COUNTRIES

MAX_WINDOWS = 10
MAX_WINDOW_LENGTH = timedelta(days=14)
MIN_DURATION, MAX_DURATION = 15, 24 * 60
MAX_SKILLS = 10
# Caps keep amounts plausible for device work (below the API-wide MAX_AMOUNT_MINOR).
MAX_PRICE_AMOUNT = 10_000_000  # 100,000.00 in minor units
MAX_HOURLY_RATE = 1_000_000  # 10,000.00 per hour
MAX_LEVEL = 100
PRICING_KINDS = ("fixed", "hourly")


def _text(max_length: int, **kwargs) -> Trimmed:
    return Trimmed(validate=validate.Length(min=1, max=max_length), **kwargs)


class DeviceSchema(ma.Schema):
    """Facts about the device the member will work on."""

    kind = _text(60, required=True, metadata={"example": "tv"})
    brand = _text(80, allow_none=True)
    model = _text(120, allow_none=True)
    age_years = ma.fields.Integer(strict=True, allow_none=True, validate=validate.Range(0, 100))
    notes = Trimmed(allow_none=True, validate=validate.Length(max=1000))


class InlineAddressSchema(ma.Schema):
    """Where the work is done, when it is not one of the customer's saved addresses.

    Coordinates come from the client (no geocoder); the postcode must fit the country:
    DE five digits, AT and CH four.
    """

    street = _text(200, allow_none=True)
    postcode = Trimmed(required=True, validate=validate.Length(min=4, max=10))
    city = _text(120, required=True)
    country = ma.fields.String(required=True, validate=validate.OneOf(COUNTRIES))
    lat = ma.fields.Float(required=True, allow_nan=False, validate=validate.Range(-90, 90))
    lon = ma.fields.Float(required=True, allow_nan=False, validate=validate.Range(-180, 180))

    @ma.validates_schema(skip_on_field_errors=True)
    def postcode_fits_country(self, data, **kwargs):
        message = postcode_problem(data["country"], data["postcode"])
        if message:
            raise ma.ValidationError(message, "postcode")


class WindowSchema(ma.Schema):
    """A period in which the work may happen; times carry their UTC offset."""

    starts_at = ma.fields.AwareDateTime(
        required=True, metadata={"example": "2030-07-01T08:00:00+02:00"}
    )
    ends_at = ma.fields.AwareDateTime(
        required=True, metadata={"example": "2030-07-01T12:00:00+02:00"}
    )

    @ma.validates_schema(skip_on_field_errors=True)
    def ends_after_start(self, data, **kwargs):
        if data["ends_at"] <= data["starts_at"]:
            raise ma.ValidationError(_("must be after starts_at"), "ends_at")
        if data["ends_at"] - data["starts_at"] > MAX_WINDOW_LENGTH:
            raise ma.ValidationError(_("a window may be at most 14 days long"), "ends_at")


class PricingSchema(ma.Schema):
    """{"kind": "fixed", "amount": 12000} or {"kind": "hourly", "rate": 4500}, minor units.

    For an hourly job the price is an estimate: rate × duration_minutes / 60, rounded half up
    to whole minor units.
    """

    kind = ma.fields.String(required=True, validate=validate.OneOf(PRICING_KINDS))
    amount = Amount(
        minimum=1,
        maximum=MAX_PRICE_AMOUNT,
        metadata={"description": "Fixed price in minor units (fixed pricing only)"},
    )
    rate = Amount(
        minimum=1,
        maximum=MAX_HOURLY_RATE,
        metadata={"description": "Hourly rate in minor units (hourly pricing only)"},
    )

    @ma.validates_schema(skip_on_field_errors=True)
    def fits_kind(self, data, **kwargs):
        needed, other = ("amount", "rate") if data["kind"] == "fixed" else ("rate", "amount")
        if needed not in data:
            raise ma.ValidationError(_("required for {value} pricing", value=data["kind"]), needed)
        if other in data:
            raise ma.ValidationError(_("not used with {value} pricing", value=data["kind"]), other)


class JobCreateSchema(ma.Schema):
    """A job order. Send either address_id (one of your saved addresses) or an inline address;
    with neither, your default address is used.

    The currency must be the one of the address's country: EUR in DE and AT, CHF in CH.
    """

    category = ma.fields.String(
        required=True,
        validate=validate.Length(min=1, max=60),
        metadata={"description": "Category slug from GET /api/v1/skills", "example": "tv_audio"},
    )
    skills = ma.fields.List(
        ma.fields.String(validate=validate.Length(min=1, max=60)),
        required=True,
        validate=validate.Length(min=1, max=MAX_SKILLS),
        metadata={"description": "Required skill slugs, all of the chosen category"},
    )
    title = _text(200, required=True)
    description = _text(5000, required=True)
    device = ma.fields.Nested(DeviceSchema, required=True)
    address_id = ma.fields.Integer(strict=True, validate=validate.Range(min=1))
    address = ma.fields.Nested(InlineAddressSchema)
    windows = ma.fields.List(
        ma.fields.Nested(WindowSchema),
        required=True,
        validate=validate.Length(min=1, max=MAX_WINDOWS),
        metadata={"description": "1 to 10 non-overlapping future windows, each ≤ 14 days"},
    )
    duration_minutes = ma.fields.Integer(
        required=True,
        strict=True,
        validate=validate.Range(MIN_DURATION, MAX_DURATION),
        metadata={"description": "Estimated duration; must fit in at least one window"},
    )
    pricing = ma.fields.Nested(PricingSchema, required=True)
    currency = ma.fields.String(
        required=True,
        validate=validate.OneOf(CURRENCIES),
        metadata={"description": "EUR for DE and AT, CHF for CH"},
    )
    min_level = ma.fields.Integer(
        strict=True,
        load_default=1,
        validate=validate.Range(1, MAX_LEVEL),
        metadata={"description": "Minimum member level rank (default 1)"},
    )
    preferred_member_id = ma.fields.Integer(
        strict=True,
        allow_none=True,
        validate=validate.Range(min=1),
        metadata={"description": "An active member you have not blocked; gets a first offer"},
    )

    @ma.validates_schema(skip_on_field_errors=False)
    def one_address(self, data, **kwargs):
        if "address_id" in data and "address" in data:
            raise ma.ValidationError(_("send address_id or address, not both"), "address")

    @ma.validates_schema(skip_on_field_errors=True)
    def skills_unique(self, data, **kwargs):
        if len(set(data["skills"])) != len(data["skills"]):
            raise ma.ValidationError(_("a skill is listed more than once"), "skills")

    @ma.validates_schema(skip_on_field_errors=True)
    def windows_usable(self, data, **kwargs):
        windows = sorted(data["windows"], key=lambda w: w["starts_at"])
        now = utcnow()
        if windows[0]["starts_at"] <= now:
            raise ma.ValidationError(_("every window must start in the future"), "windows")
        for earlier, later in zip(windows, windows[1:], strict=False):
            if later["starts_at"] < earlier["ends_at"]:
                raise ma.ValidationError(_("windows must not overlap"), "windows")
        longest = max(w["ends_at"] - w["starts_at"] for w in windows)
        if longest < timedelta(minutes=data["duration_minutes"]):
            raise ma.ValidationError(_("must fit into at least one window"), "duration_minutes")
