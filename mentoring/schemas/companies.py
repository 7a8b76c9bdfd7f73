"""API contract of a provider company's levels view."""

import marshmallow as ma


class CompanyBadgeSchema(ma.Schema):
    category = ma.fields.String()
    region = ma.fields.String()
    valid_until = ma.fields.DateTime()


class CompanyTechnicianStandingSchema(ma.Schema):
    member_id = ma.fields.Integer()
    display_name = ma.fields.String()
    role = ma.fields.String(metadata={"description": "owner, dispatcher or technician"})
    member_status = ma.fields.String()
    level_rank = ma.fields.Integer()
    level_name = ma.fields.String(
        allow_none=True, metadata={"description": "In the active rule set"}
    )
    rating = ma.fields.Float(
        allow_none=True, metadata={"description": "The member's average stars (none yet: null)"}
    )
    rating_count = ma.fields.Integer()
    jobs_completed = ma.fields.Integer()
    top_performer = ma.fields.Boolean(metadata={"description": "Holds a badge in force"})
    badges = ma.fields.List(ma.fields.Nested(CompanyBadgeSchema))


class CompanyLevelCountSchema(ma.Schema):
    level_rank = ma.fields.Integer()
    level_name = ma.fields.String(allow_none=True)
    count = ma.fields.Integer()


class CompanyLevelAggregatesSchema(ma.Schema):
    technicians = ma.fields.Integer()
    levels = ma.fields.List(ma.fields.Nested(CompanyLevelCountSchema))
    average_rating = ma.fields.Float(
        allow_none=True,
        metadata={"description": "The members' ratings weighted by their jobs completed"},
    )
    jobs_completed = ma.fields.Integer()
    top_performers = ma.fields.Integer()


class CompanyLevelsSchema(ma.Schema):
    organisation_id = ma.fields.Integer()
    technicians = ma.fields.List(ma.fields.Nested(CompanyTechnicianStandingSchema))
    aggregates = ma.fields.Nested(CompanyLevelAggregatesSchema)
