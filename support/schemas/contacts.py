"""API contract for the contact history of members and customers (staff only)."""

import marshmallow as ma
from marshmallow import validate

from crowd.core.fields import within_documented_length
from support.models import CONTACT_CHANNELS, CONTACT_KINDS


class StaffContactCreateSchema(ma.Schema):
    """A note, or a call / conversation / email a community manager had with the person."""

    kind = ma.fields.String(required=True, validate=validate.OneOf(CONTACT_KINDS))
    channel = ma.fields.String(
        load_default="internal",
        validate=validate.OneOf(CONTACT_CHANNELS),
        metadata={"description": "How it happened; internal for a note"},
    )
    summary = ma.fields.String(required=True, validate=validate.Length(min=1, max=5000))
    happened_at = ma.fields.AwareDateTime(
        load_default=None,
        metadata={"description": "When it happened (default: now); not in the future"},
    )

    @ma.pre_load
    def strip_summary(self, data, **kwargs):
        summary = data.get("summary") if isinstance(data, dict) else None
        if isinstance(summary, str) and within_documented_length(self.fields["summary"], summary):
            data = {**data, "summary": summary.strip()}
        return data


class StaffContactSchema(ma.Schema):
    id = ma.fields.Integer()
    member_id = ma.fields.Integer(allow_none=True)
    customer_id = ma.fields.Integer(allow_none=True)
    kind = ma.fields.String()
    channel = ma.fields.String()
    summary = ma.fields.String()
    happened_at = ma.fields.DateTime()
    author_id = ma.fields.Integer()
    created_at = ma.fields.DateTime()
