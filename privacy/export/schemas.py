"""API contract for data exports."""

import marshmallow as ma
from marshmallow import validate

from privacy.models.exports import EXPORT_STATUSES


class DataExportSchema(ma.Schema):
    """An export of your data: pending while it is assembled, then ready for one download
    until `expires_at` (then expired), downloaded once fetched, or failed."""

    id = ma.fields.Integer(required=True)
    user_id = ma.fields.Integer(required=True)
    status = ma.fields.String(
        required=True, attribute="current_status", validate=validate.OneOf(EXPORT_STATUSES)
    )
    requested_by = ma.fields.String(
        required=True,
        validate=validate.OneOf(("self", "admin")),
        metadata={"description": "you, or an admin on your behalf"},
    )
    created_at = ma.fields.AwareDateTime(required=True)
    ready_at = ma.fields.AwareDateTime(allow_none=True)
    expires_at = ma.fields.AwareDateTime(allow_none=True)
    downloaded_at = ma.fields.AwareDateTime(allow_none=True)
    failed_at = ma.fields.AwareDateTime(allow_none=True)
