"""API contract for a provider company's dispatcher: its offers and jobs, accepting an offer
for the company and assigning a technician."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from crowd.core.pagination import PageArgsSchema, page_of
from jobs.schemas.jobs import JobQueryArgsSchema, JobSummarySchema
from jobs.schemas.offers import MemberOfferSchema


class CompanyOfferSchema(MemberOfferSchema):
    """A pending offer sent to a member of your company; the job as they see it before
    accepting (no street, no customer), the distance from their location."""

    member_id = ma.fields.Integer(metadata={"description": "The member it was sent to"})
    member_display_name = ma.fields.String()


CompanyOfferPageSchema = page_of(CompanyOfferSchema)


class CompanyOfferQueryArgsSchema(PageArgsSchema):
    """Your company's pending offers, least recently changed first."""


class CompanyJobSummarySchema(JobSummarySchema):
    """A job of your company: done or being done by one of its technicians for it."""

    assigned_member_id = ma.fields.Integer(allow_none=True)
    assigned_member_display_name = ma.fields.String(allow_none=True)


CompanyJobPageSchema = page_of(CompanyJobSummarySchema)


class CompanyJobQueryArgsSchema(JobQueryArgsSchema):
    """Your company's jobs, least recently changed first: by status, polled with
    updated_since."""


class CompanyAcceptSchema(ma.Schema):
    """Accept the offer for your company and give the job to this technician."""

    technician_member_id = ma.fields.Integer(
        required=True,
        strict=True,
        validate=validate.Range(min=1),
        metadata={
            "description": "An active member of your company, eligible for the job (skills, "
            "distance, calendar); the offer's addressee or another"
        },
    )


class CompanyReassignSchema(CompanyAcceptSchema):
    """Give your company's assigned job, not yet started, to this technician instead."""


class CompanyAssignmentSchema(ma.Schema):
    """The job your company took, and who does it when."""

    job_id = ma.fields.Integer(attribute="id")
    status = ma.fields.String()
    organisation_id = ma.fields.Integer()
    assigned_member_id = ma.fields.Integer()
    scheduled_start = ma.fields.DateTime()
    scheduled_end = ma.fields.DateTime()
