"""API contract for a member's jobs: the lean list, the full job, and reporting the work."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from crowd.core.fields import Amount, Trimmed
from crowd.core.files.schemas import file_id, file_ids
from crowd.core.pagination import PageArgsSchema, page_of
from jobs.schemas.jobs import PriceSchema, WindowOutSchema, WorkReportOutSchema
from jobs.work import SCOPES
from jobs.work_files import MAX_PHOTOS as MAX_PHOTO_FILES

MAX_PARTS = 50
MAX_PHOTOS = 30


class MemberJobSummarySchema(ma.Schema):
    """A job of yours in a list: where, for whom, when, and what you can do next."""

    id = ma.fields.Integer()
    status = ma.fields.String()
    title = ma.fields.String()
    category = ma.fields.String(metadata={"description": "Category slug"})
    street = ma.fields.String(allow_none=True)
    postcode = ma.fields.String()
    city = ma.fields.String()
    country = ma.fields.String()
    lat = ma.fields.Float()
    lon = ma.fields.Float()
    customer_first_name = ma.fields.String(allow_none=True)
    duration_minutes = ma.fields.Integer()
    price = ma.fields.Nested(PriceSchema)
    scheduled_start = ma.fields.DateTime(allow_none=True)
    scheduled_end = ma.fields.DateTime(allow_none=True)
    assigned_at = ma.fields.DateTime(allow_none=True)
    started_at = ma.fields.DateTime(allow_none=True)
    completed_at = ma.fields.DateTime(allow_none=True)
    cancelled_at = ma.fields.DateTime(allow_none=True)
    updated_at = ma.fields.DateTime()
    allowed_actions = ma.fields.List(
        ma.fields.String(), metadata={"description": "State-machine actions open to you now"}
    )


class MemberJobSchema(MemberJobSummarySchema):
    """A job of yours in full, with the device, the windows and your work report."""

    description = ma.fields.String()
    device = ma.fields.Dict()
    skills = ma.fields.List(ma.fields.String())
    windows = ma.fields.List(ma.fields.Nested(WindowOutSchema))
    cancel_reason = ma.fields.String(allow_none=True)
    work_report = ma.fields.Nested(WorkReportOutSchema, allow_none=True)


MemberJobPageSchema = page_of(MemberJobSummarySchema)


class MemberJobQueryArgsSchema(PageArgsSchema):
    scope = ma.fields.String(
        validate=validate.OneOf(tuple(SCOPES)),
        metadata={
            "description": "upcoming (assigned), active (in progress), past (completed, "
            "confirmed, closed, cancelled, disputed); none: all"
        },
    )
    updated_since = ma.fields.AwareDateTime(
        metadata={"description": "Only jobs changed after this instant (for polling)"}
    )


class PartSchema(ma.Schema):
    name = Trimmed(required=True, validate=validate.Length(min=1, max=200))
    quantity = ma.fields.Integer(required=True, strict=True, validate=validate.Range(1, 1000))
    amount_minor = Amount(
        required=True,
        metadata={"description": "Price of all units, in minor units of the job's currency"},
    )


class WorkReportSchema(ma.Schema):
    """What was done: required to complete a job."""

    notes = Trimmed(required=True, validate=validate.Length(min=1, max=5000))
    minutes_spent = ma.fields.Integer(required=True, strict=True, validate=validate.Range(1, 1440))
    parts = ma.fields.List(
        ma.fields.Nested(PartSchema), load_default=list, validate=validate.Length(max=MAX_PARTS)
    )
    photo_refs = ma.fields.List(
        Trimmed(validate=validate.Length(min=1, max=500)),
        load_default=list,
        validate=validate.Length(max=MAX_PHOTOS),
        metadata={
            "description": "Deprecated (kept as given): references to photos stored elsewhere; "
            "send photo_file_ids instead",
            "deprecated": True,
        },
    )
    photo_file_ids = file_ids(maximum=MAX_PHOTO_FILES, purpose="work_photo")
    signature_file_id = file_id(
        load_default=None,
        allow_none=True,
        metadata={
            "description": "The customer's signature: a ready upload of yours of purpose "
            "`signature`; a file attached elsewhere is a 422"
        },
    )


class MemberCancelSchema(ma.Schema):
    reason = Trimmed(required=True, validate=validate.Length(min=1, max=500))


class WithdrawalSchema(ma.Schema):
    job_id = ma.fields.Integer()
    status = ma.fields.String(metadata={"description": "The job's status now (open)"})
    reason = ma.fields.String()
    withdrawn_at = ma.fields.DateTime()
