"""API contract of the dispatch board: the jobs waiting for a member, filtered, with figures."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from crowd.core.pagination import PageArgsSchema, page_of
from jobs.board import ESCALATED
from jobs.queries import UNASSIGNED


class BoardQueryArgsSchema(PageArgsSchema):
    """Filters of the board; every one optional."""

    region = ma.fields.String(
        validate=validate.Length(min=2, max=12),
        metadata={"description": "A country (DE) or a country and a postcode prefix (DE-80)"},
    )
    category = ma.fields.String(
        validate=validate.Length(min=1, max=60), metadata={"description": "Category slug"}
    )
    status = ma.fields.String(validate=validate.OneOf(UNASSIGNED))
    escalated = ma.fields.String(
        validate=validate.OneOf(ESCALATED),
        metadata={"description": "yes: waiting for staff; no: still with dispatch"},
    )
    starts_from = ma.fields.AwareDateTime(
        metadata={"description": "A window of the job starts at or after this instant"}
    )
    starts_until = ma.fields.AwareDateTime(metadata={"description": "… and before this one"})
    min_waves = ma.fields.Integer(validate=validate.Range(min=0, max=1000))
    max_waves = ma.fields.Integer(validate=validate.Range(min=0, max=1000))

    @ma.validates_schema
    def ordered(self, data, **kwargs):
        start, end = data.get("starts_from"), data.get("starts_until")
        if start and end and start >= end:
            raise ma.ValidationError("must be after starts_from", "starts_until")
        low, high = data.get("min_waves"), data.get("max_waves")
        if low is not None and high is not None and low > high:
            raise ma.ValidationError("must be at least min_waves", "max_waves")


class BoardJobSchema(ma.Schema):
    id = ma.fields.Integer()
    status = ma.fields.String()
    title = ma.fields.String()
    category = ma.fields.String()
    country = ma.fields.String()
    postcode = ma.fields.String()
    city = ma.fields.String()
    first_window_starts_at = ma.fields.DateTime(allow_none=True)
    waves_sent = ma.fields.Integer()
    offers_out = ma.fields.Integer(metadata={"description": "Offers still pending"})
    escalated = ma.fields.Boolean()
    escalated_at = ma.fields.DateTime(allow_none=True)
    escalation_reason = ma.fields.String(allow_none=True)
    created_at = ma.fields.DateTime()
    seconds_to_first_offer = ma.fields.Integer(
        allow_none=True, metadata={"description": "From posting to the first offer sent"}
    )
    seconds_to_assignment = ma.fields.Integer(
        allow_none=True,
        metadata={"description": "From posting to the first assignment (a member backed out)"},
    )


BoardPageSchema = page_of(BoardJobSchema)
