"""API contract for reading jobs and acting on them: customer and staff views, events, actions."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from crowd.core.fields import Amount, Trimmed, id_range
from crowd.core.files.schemas import AttachedFileSchema
from crowd.core.pagination import PageArgsSchema
from jobs.models import JOB_STATUSES, WORK_REPORT_FILE_KINDS
from members.models import COUNTRIES


class WindowOutSchema(ma.Schema):
    id = ma.fields.Integer(metadata={"description": "Pass as window_id when assigning"})
    starts_at = ma.fields.DateTime()
    ends_at = ma.fields.DateTime()


class JobAddressSchema(ma.Schema):
    address_id = ma.fields.Integer(
        allow_none=True, metadata={"description": "The saved address it came from, if any"}
    )
    street = ma.fields.String(allow_none=True)
    postcode = ma.fields.String()
    city = ma.fields.String()
    country = ma.fields.String()
    lat = ma.fields.Float()
    lon = ma.fields.Float()


class PriceSchema(ma.Schema):
    kind = ma.fields.String(metadata={"description": "fixed or hourly"})
    amount = Amount(
        metadata={"description": "Minor units: the fixed price, or for hourly the estimate"}
    )
    rate = Amount(
        allow_none=True, metadata={"description": "Hourly rate in minor units (hourly only)"}
    )
    currency = ma.fields.String()


class PartySchema(ma.Schema):
    id = ma.fields.Integer()
    display_name = ma.fields.String()


class WorkReportFileSchema(AttachedFileSchema):
    """A photo of the work or the customer's signature; GET
    /jobs/{job_id}/work-report/files/{id} for its short-lived URL."""

    kind = ma.fields.String(validate=validate.OneOf(WORK_REPORT_FILE_KINDS))


class WorkReportOutSchema(ma.Schema):
    notes = ma.fields.String()
    minutes_spent = ma.fields.Integer()
    parts = ma.fields.List(ma.fields.Dict())
    photo_refs = ma.fields.List(
        ma.fields.String(), metadata={"description": "Deprecated: opaque references; see files"}
    )
    files = ma.fields.List(
        ma.fields.Nested(WorkReportFileSchema),
        metadata={"description": "The photos in order, then the signature"},
    )
    created_at = ma.fields.DateTime()


class CancellationSchema(ma.Schema):
    cancelled_at = ma.fields.DateTime()
    cancelled_by = ma.fields.String(metadata={"description": "customer or staff"})
    reason = ma.fields.String(allow_none=True)
    fee_amount = Amount(
        metadata={"description": "Late-cancellation fee in minor units of the job's currency"}
    )


class JobSummarySchema(ma.Schema):
    """A job in a list: enough to show a row and decide whether to open it."""

    id = ma.fields.Integer()
    status = ma.fields.String()
    title = ma.fields.String()
    category = ma.fields.String(metadata={"description": "Category slug"})
    city = ma.fields.String()
    country = ma.fields.String()
    price = ma.fields.Nested(PriceSchema)
    first_window_starts_at = ma.fields.DateTime()
    scheduled_start = ma.fields.DateTime(allow_none=True)
    escalated = ma.fields.Boolean(metadata={"description": "Waiting for a community manager"})
    created_at = ma.fields.DateTime()
    updated_at = ma.fields.DateTime()


class JobSchema(JobSummarySchema):
    """A job in full, as its customer sees it."""

    skills = ma.fields.List(ma.fields.String(), metadata={"description": "Required skill slugs"})
    description = ma.fields.String()
    device = ma.fields.Dict()
    address = ma.fields.Nested(JobAddressSchema)
    windows = ma.fields.List(ma.fields.Nested(WindowOutSchema))
    duration_minutes = ma.fields.Integer()
    min_level = ma.fields.Integer()
    preferred_member_id = ma.fields.Integer(allow_none=True)
    status_changed_at = ma.fields.DateTime()
    scheduled_end = ma.fields.DateTime(allow_none=True)
    assigned_member = ma.fields.Nested(PartySchema, allow_none=True)
    assigned_at = ma.fields.DateTime(allow_none=True)
    started_at = ma.fields.DateTime(allow_none=True)
    completed_at = ma.fields.DateTime(allow_none=True)
    confirmed_at = ma.fields.DateTime(allow_none=True)
    closed_at = ma.fields.DateTime(allow_none=True)
    cancellation = ma.fields.Nested(CancellationSchema, allow_none=True)
    work_report = ma.fields.Nested(WorkReportOutSchema, allow_none=True)
    allowed_actions = ma.fields.List(
        ma.fields.String(), metadata={"description": "What the caller may do to it now"}
    )


class OfferSummarySchema(ma.Schema):
    id = ma.fields.Integer()
    member_id = ma.fields.Integer()
    member_display_name = ma.fields.String()
    wave = ma.fields.Integer()
    exclusive = ma.fields.Boolean()
    score = ma.fields.Float()
    status = ma.fields.String()
    sent_at = ma.fields.DateTime()
    expires_at = ma.fields.DateTime()
    responded_at = ma.fields.DateTime(allow_none=True)
    decline_reason = ma.fields.String(allow_none=True)


class OffersOverviewSchema(ma.Schema):
    counts = ma.fields.Dict(
        keys=ma.fields.String(), values=ma.fields.Integer(), metadata={"description": "By status"}
    )
    items = ma.fields.List(ma.fields.Nested(OfferSummarySchema))


class StaffJobSchema(JobSchema):
    """A job in full for community managers: who ordered it, escalation, every offer."""

    customer = ma.fields.Nested(PartySchema)
    wave = ma.fields.Integer()
    escalated_at = ma.fields.DateTime(allow_none=True)
    escalation_reason = ma.fields.String(allow_none=True)
    offers = ma.fields.Nested(OffersOverviewSchema)


class StaffJobSummarySchema(JobSummarySchema):
    customer_id = ma.fields.Integer()
    assigned_member_id = ma.fields.Integer(allow_none=True)


class JobEventSchema(ma.Schema):
    id = ma.fields.Integer()
    action = ma.fields.String()
    from_status = ma.fields.String(allow_none=True)
    to_status = ma.fields.String()
    actor = ma.fields.String(metadata={"description": "customer, member, staff or system"})
    actor_user_id = ma.fields.Integer(allow_none=True)
    detail = ma.fields.Dict()
    created_at = ma.fields.DateTime()


# --- query arguments ----------------------------------------------------------------------


class JobQueryArgsSchema(PageArgsSchema):
    """Your jobs, least recently changed first: poll with updated_since and the cursor."""

    status = ma.fields.String(validate=validate.OneOf(JOB_STATUSES))
    updated_since = ma.fields.AwareDateTime(
        metadata={"description": "Only jobs changed at or after this instant"}
    )


class StaffJobQueryArgsSchema(JobQueryArgsSchema):
    escalated = ma.fields.Boolean(
        metadata={"description": "true: escalated and still unassigned (open or offered)"}
    )
    customer_id = ma.fields.Integer(validate=id_range())
    member_id = ma.fields.Integer(validate=id_range(), metadata={"description": "Assigned member"})
    category = ma.fields.String(validate=validate.Length(min=1, max=60))
    country = ma.fields.String(validate=validate.OneOf(COUNTRIES))


# --- actions ------------------------------------------------------------------------------


class ReasonSchema(ma.Schema):
    reason = Trimmed(required=True, validate=validate.Length(min=1, max=500))
