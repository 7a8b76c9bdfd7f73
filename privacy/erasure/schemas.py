"""API contract for erasure requests."""

import marshmallow as ma
from marshmallow import validate

from privacy.models import ERASURE_VIAS


class OwnErasureSchema(ma.Schema):
    """The person's own request: their current password, proving it is them."""

    password = ma.fields.String(required=True, load_only=True, validate=validate.Length(max=200))


class ErasureRequestSchema(ma.Schema):
    """An admin's request: why (the record keeps it; say why, not who)."""

    reason = ma.fields.String(required=True, validate=validate.Length(min=1, max=500))


class ErasureSchema(ma.Schema):
    """An erasure's record: no personal data, only ids, counts and what was kept."""

    id = ma.fields.Integer()
    user_id = ma.fields.Integer()
    requested_by_id = ma.fields.Integer()
    via = ma.fields.String(validate=validate.OneOf(ERASURE_VIAS))
    reason = ma.fields.String(allow_none=True)
    erased_at = ma.fields.DateTime()
    counts = ma.fields.Dict(
        keys=ma.fields.String(),
        values=ma.fields.Integer(),
        metadata={"description": "Rows anonymised, deleted or discarded, per kind"},
    )
    kept = ma.fields.List(
        ma.fields.String(),
        metadata={"description": "What is kept, and why (invoices: the legal retention period)"},
    )
