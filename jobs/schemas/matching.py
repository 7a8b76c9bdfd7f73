"""API contract of matching: a job's ranked candidates and one member's eligibility."""

import marshmallow as ma
from marshmallow import validate

from jobs.models import OFFER_STATUSES

MAX_CANDIDATES = 100


class CandidateQueryArgsSchema(ma.Schema):
    limit = ma.fields.Integer(
        load_default=20,
        validate=validate.Range(min=1, max=MAX_CANDIDATES),
        metadata={"description": f"How many candidates, best first (1–{MAX_CANDIDATES})"},
    )
    include_offered = ma.fields.Boolean(
        load_default=False,
        metadata={"description": "Also list members already offered the job (any status)"},
    )


class CandidateWindowSchema(ma.Schema):
    id = ma.fields.Integer(metadata={"description": "The job window the member fits"})
    starts_at = ma.fields.AwareDateTime(metadata={"description": "Scheduled start (UTC)"})
    ends_at = ma.fields.AwareDateTime(metadata={"description": "Start plus the job's duration"})


class CandidateSchema(ma.Schema):
    member_id = ma.fields.Integer()
    display_name = ma.fields.String()
    score = ma.fields.Float(metadata={"description": "0..100, the sum of the breakdown"})
    distance_km = ma.fields.Float()
    window = ma.fields.Nested(CandidateWindowSchema)
    breakdown = ma.fields.Dict(
        keys=ma.fields.String(),
        values=ma.fields.Float(),
        metadata={"description": "Each weighted component's contribution to the score"},
    )
    offer_status = ma.fields.String(
        allow_none=True,
        metadata={"description": f"The member's offer for this job: {', '.join(OFFER_STATUSES)}"},
    )


class CandidateListSchema(ma.Schema):
    job_id = ma.fields.Integer()
    weights = ma.fields.Dict(
        keys=ma.fields.String(),
        values=ma.fields.Float(),
        metadata={"description": "Weight of each score component (they add up to 100)"},
    )
    requirements = ma.fields.Dict(
        keys=ma.fields.String(),
        values=ma.fields.String(),
        metadata={"description": "The eligibility requirements every candidate meets"},
    )
    items = ma.fields.List(ma.fields.Nested(CandidateSchema))


class EligibilitySchema(ma.Schema):
    job_id = ma.fields.Integer()
    member_id = ma.fields.Integer()
    eligible = ma.fields.Boolean()
    problems = ma.fields.List(
        ma.fields.String(), metadata={"description": "Each requirement the member fails"}
    )
    offer_status = ma.fields.String(
        allow_none=True,
        metadata={"description": "The member's offer for this job, if any (never offered twice)"},
    )


class IneligibleQueryArgsSchema(ma.Schema):
    limit = ma.fields.Integer(
        load_default=10,
        validate=validate.Range(min=1, max=50),
        metadata={"description": "How many near misses, nearest first (1–50)"},
    )


class IneligibleSchema(ma.Schema):
    member_id = ma.fields.Integer()
    display_name = ma.fields.String()
    distance_km = ma.fields.Float()
    problems = ma.fields.List(
        ma.fields.String(), metadata={"description": "Each requirement the member fails"}
    )
    offer_status = ma.fields.String(allow_none=True)


class IneligibleListSchema(ma.Schema):
    job_id = ma.fields.Integer()
    checked = ma.fields.Integer(
        metadata={"description": "Members of the region with the job's skills that were checked"}
    )
    items = ma.fields.List(ma.fields.Nested(IneligibleSchema))
