"""API contract for offers: a member's offers, declining, and staff dispatch actions."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from crowd.core.fields import Trimmed
from crowd.core.i18n import _
from crowd.core.pagination import PageArgsSchema, page_of
from jobs.assignment import DECLINE_REASONS
from jobs.models import OFFER_STATUSES
from jobs.schemas.jobs import PriceSchema, WindowOutSchema

# --- the member's offers -------------------------------------------------------------------


class OfferJobSchema(ma.Schema):
    """The job behind an offer, as a member may see it before accepting: no street, no name."""

    id = ma.fields.Integer()
    title = ma.fields.String()
    category = ma.fields.String(metadata={"description": "Category slug"})
    device_kind = ma.fields.String(allow_none=True)
    city = ma.fields.String()
    postcode = ma.fields.String()
    country = ma.fields.String()
    distance_km = ma.fields.Float(
        allow_none=True, metadata={"description": "From your location, as the crow flies"}
    )
    windows = ma.fields.List(ma.fields.Nested(WindowOutSchema))
    duration_minutes = ma.fields.Integer()
    price = ma.fields.Nested(PriceSchema)


class MemberOfferSchema(ma.Schema):
    id = ma.fields.Integer()
    status = ma.fields.String(metadata={"description": ", ".join(OFFER_STATUSES)})
    wave = ma.fields.Integer()
    exclusive = ma.fields.Boolean(
        metadata={"description": "Sent to you alone: the customer asked for you"}
    )
    sent_at = ma.fields.DateTime()
    expires_at = ma.fields.DateTime(metadata={"description": "Answer before this"})
    responded_at = ma.fields.DateTime(allow_none=True)
    decline_reason = ma.fields.String(allow_none=True)
    updated_at = ma.fields.DateTime()
    job = ma.fields.Nested(OfferJobSchema)


MemberOfferPageSchema = page_of(MemberOfferSchema)


class OfferQueryArgsSchema(PageArgsSchema):
    status = ma.fields.String(
        validate=validate.OneOf((*OFFER_STATUSES, "all")),
        metadata={
            "description": "pending (default: still answerable), accepted, declined, expired, "
            "withdrawn or all; with updated_since and no status, all"
        },
    )
    updated_since = ma.fields.AwareDateTime(
        metadata={"description": "Only offers changed after this instant (for polling)"}
    )


class DeclineSchema(ma.Schema):
    reason = ma.fields.String(
        required=True,
        validate=validate.OneOf(DECLINE_REASONS),
        metadata={"description": "One of: " + ", ".join(DECLINE_REASONS)},
    )
    note = Trimmed(
        allow_none=True,
        validate=validate.Length(max=150),
        metadata={"description": "Optional words for the community manager"},
    )


# --- staff dispatch ------------------------------------------------------------------------


class AssignSchema(ma.Schema):
    """Assign a member directly; `override` (with a `reason`) skips the eligibility rules."""

    member_id = ma.fields.Integer(required=True, strict=True, validate=validate.Range(min=1))
    window_id = ma.fields.Integer(
        strict=True,
        allow_none=True,
        metadata={"description": "The job window to schedule in; default: where the member fits"},
    )
    override = ma.fields.Boolean(
        load_default=False,
        metadata={"description": "Assign although the member is not eligible (needs reason)"},
    )
    reason = Trimmed(allow_none=True, validate=validate.Length(min=1, max=500))

    @ma.validates_schema
    def reason_with_override(self, data, **kwargs):
        if data.get("override") and not data.get("reason"):
            raise ma.ValidationError(_("required when override is true"), "reason")


class DispatchOfferSchema(ma.Schema):
    id = ma.fields.Integer()
    member_id = ma.fields.Integer()
    score = ma.fields.Float()
    exclusive = ma.fields.Boolean()
    expires_at = ma.fields.DateTime()


class DispatchStateSchema(ma.Schema):
    """Where dispatch stands for a job after a staff action."""

    job_id = ma.fields.Integer(attribute="id")
    status = ma.fields.String()
    wave = ma.fields.Integer()
    assigned_member_id = ma.fields.Integer(allow_none=True)
    scheduled_start = ma.fields.DateTime(allow_none=True)
    scheduled_end = ma.fields.DateTime(allow_none=True)
    escalated_at = ma.fields.DateTime(allow_none=True)
    offers = ma.fields.List(
        ma.fields.Nested(DispatchOfferSchema),
        metadata={"description": "The offers this action sent"},
    )


class OfferToMemberSchema(ma.Schema):
    """Offer the job to one member staff chose (eligible, never offered it before)."""

    member_id = ma.fields.Integer(required=True, strict=True, validate=validate.Range(min=1))
