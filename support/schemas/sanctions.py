"""API contract for sanctions: warn, suspend, reinstate — and a member's record of them."""

import marshmallow as ma
from marshmallow import validate

from crowd.core.fields import within_documented_length
from support.models import SANCTION_KINDS


class SanctionCreateSchema(ma.Schema):
    """A sanction on a member, always with the reason (the member is told it)."""

    kind = ma.fields.String(
        required=True,
        validate=validate.OneOf(SANCTION_KINDS),
        metadata={
            "description": "warn: recorded and told; suspend: status suspended, out of "
            "matching, pending offers withdrawn (assigned jobs stay); reinstate: active again"
        },
    )
    reason = ma.fields.String(required=True, validate=validate.Length(min=1, max=1000))
    ticket_id = ma.fields.Integer(
        strict=True,
        load_default=None,
        metadata={"description": "The ticket about this member that led to it, if any"},
    )

    @ma.pre_load
    def strip_reason(self, data, **kwargs):
        reason = data.get("reason") if isinstance(data, dict) else None
        # Longer than documented as sent: left alone, so the maximum refuses it.
        if isinstance(reason, str) and within_documented_length(self.fields["reason"], reason):
            data = {**data, "reason": reason.strip()}
        return data


class SanctionSchema(ma.Schema):
    id = ma.fields.Integer()
    member_id = ma.fields.Integer()
    kind = ma.fields.String()
    reason = ma.fields.String()
    ticket_id = ma.fields.Integer(allow_none=True)
    created_by_id = ma.fields.Integer()
    created_at = ma.fields.DateTime()
    member_status = ma.fields.String(metadata={"description": "The member's status now"})


class SanctionCreatedSchema(SanctionSchema):
    offers_withdrawn = ma.fields.Integer(
        metadata={"description": "Pending offers withdrawn by a suspension"}
    )
    assigned_job_ids = ma.fields.List(
        ma.fields.Integer(),
        metadata={"description": "Jobs the member is still booked for (assigned, in progress)"},
    )
