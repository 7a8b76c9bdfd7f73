"""API contract of crowd health (the definitions: crowd_health.service)."""

import marshmallow as ma
from marshmallow import validate

from crowd.core.patterns import Pattern
from members.models import COUNTRIES

ID = validate.Range(min=1, max=2**63 - 1)


# Shared with mentoring's health report (mentored vs unmentored), which sits above this package.
class RankTimeSchema(ma.Schema):
    admitted = ma.fields.Integer(metadata={"description": "Admitted in the period"})
    reached = ma.fields.Integer(metadata={"description": "Of them, reached rank 2 or higher"})
    median_days = ma.fields.Float(allow_none=True)


def _rate(description: str) -> ma.fields.Float:
    return ma.fields.Float(allow_none=True, metadata={"description": description})


class HealthQueryArgsSchema(ma.Schema):
    from_ = ma.fields.Date(
        data_key="from",
        metadata={"description": "First day (UTC); default 89 days before `to`"},
    )
    to = ma.fields.Date(metadata={"description": "Last day, inclusive (UTC); default today"})
    country = ma.fields.String(validate=validate.OneOf(COUNTRIES))
    postcode_prefix = ma.fields.String(validate=Pattern(r"\d{1,5}", error="must be 1 to 5 digits"))
    city = ma.fields.String(
        validate=[
            validate.Length(min=1, max=120),
            Pattern(r"[^\u0000-\u001f]+", error="must not contain control characters"),
        ],
        metadata={"description": "Exact city name, case-insensitive"},
    )
    skill_id = ma.fields.Integer(
        validate=ID, metadata={"description": "Members claiming the skill; jobs needing it"}
    )
    category_id = ma.fields.Integer(
        validate=ID,
        metadata={"description": "Members claiming a skill of the category; jobs of it"},
    )


class HealthFiltersSchema(ma.Schema):
    country = ma.fields.String(allow_none=True)
    postcode_prefix = ma.fields.String(allow_none=True)
    city = ma.fields.String(allow_none=True)
    skill_id = ma.fields.Integer(allow_none=True)
    category_id = ma.fields.Integer(allow_none=True)


class RegionMembersSchema(ma.Schema):
    country = ma.fields.String(allow_none=True)
    postcode_area = ma.fields.String(
        allow_none=True, metadata={"description": "First two characters of the postcode"}
    )
    members = ma.fields.Integer()


class SkillMembersSchema(ma.Schema):
    skill_id = ma.fields.Integer()
    skill = ma.fields.String(metadata={"description": "Skill slug"})
    category = ma.fields.String(metadata={"description": "Category slug"})
    members = ma.fields.Integer()


class ActiveMembersSchema(ma.Schema):
    total = ma.fields.Integer(metadata={"description": "Members with status active now"})
    working = ma.fields.Integer(
        metadata={"description": "Of them, with at least one job confirmed in the period"}
    )
    working_rate = _rate("working / total")
    per_region = ma.fields.List(ma.fields.Nested(RegionMembersSchema))
    per_skill = ma.fields.List(
        ma.fields.Nested(SkillMembersSchema),
        metadata={"description": "The skills with the most active members (top N)"},
    )
    skills = ma.fields.Integer(metadata={"description": "Skills with any active member"})


class PeriodSchema(ma.Schema):
    first = ma.fields.Date(metadata={"description": "First day of the bucket"})
    last = ma.fields.Date(metadata={"description": "Last day of the bucket, inclusive"})


def _counts(description: str) -> ma.fields.List:
    return ma.fields.List(ma.fields.Integer(), metadata={"description": description})


class RegionSeriesSchema(ma.Schema):
    country = ma.fields.String(allow_none=True)
    postcode_area = ma.fields.String(
        allow_none=True,
        metadata={"description": "First two characters of the postcode (with a country filter)"},
    )
    members = _counts("Active members at the end of each period, in the order of `periods`")


class SkillSeriesSchema(ma.Schema):
    skill_id = ma.fields.Integer()
    skill = ma.fields.String(metadata={"description": "Skill slug"})
    members = _counts("Active members at the end of each period, in the order of `periods`")


class ActiveOverTimeSchema(ma.Schema):
    bucket = ma.fields.String(
        validate=validate.OneOf(("week", "month")),
        metadata={"description": "week for periods up to 183 days, else month"},
    )
    periods = ma.fields.List(
        ma.fields.Nested(PeriodSchema),
        metadata={"description": "The buckets (the first and last may be shorter)"},
    )
    per_region = ma.fields.List(
        ma.fields.Nested(RegionSeriesSchema),
        metadata={"description": "Per country; with a country filter per postcode area"},
    )
    per_skill = ma.fields.List(
        ma.fields.Nested(SkillSeriesSchema),
        metadata={"description": "The skills of active_members.per_skill"},
    )


class ActivationWindowSchema(ma.Schema):
    days = ma.fields.Integer()
    cohort = ma.fields.Integer(metadata={"description": "Approved in the period, ≥ days ago"})
    activated = ma.fields.Integer(
        metadata={"description": "Of the cohort, first confirmed job within `days` of approval"}
    )
    rate = _rate("activated / cohort")


class ActivationSchema(ma.Schema):
    approved = ma.fields.Integer(metadata={"description": "Members approved in the period"})
    activated = ma.fields.Integer(metadata={"description": "Of them, with a confirmed job"})
    rate = _rate("activated / approved")
    median_days = ma.fields.Float(
        allow_none=True, metadata={"description": "Approval → first confirmed job"}
    )
    in_window = ma.fields.Nested(ActivationWindowSchema)


class RetentionStatusSchema(ma.Schema):
    applicant = ma.fields.Integer()
    active = ma.fields.Integer()
    paused = ma.fields.Integer()
    suspended = ma.fields.Integer()
    offboarded = ma.fields.Integer()
    unknown = ma.fields.Integer(metadata={"description": "No status change recorded by then"})


class RetentionSchema(ma.Schema):
    days = ma.fields.Integer()
    cohort = ma.fields.Integer(metadata={"description": "Approved in the period, ≥ days ago"})
    retained = ma.fields.Integer(metadata={"description": "Active `days` after approval"})
    rate = _rate("retained / cohort")
    too_recent = ma.fields.Integer(metadata={"description": "Approved in the period, < days ago"})
    by_status = ma.fields.Nested(
        RetentionStatusSchema,
        metadata={"description": "The cohort by status `days` after approval"},
    )


class LevelMembersSchema(ma.Schema):
    rank = ma.fields.Integer(metadata={"description": "0: no level yet"})
    code = ma.fields.String(allow_none=True)
    name = ma.fields.String(allow_none=True)
    members = ma.fields.Integer()


class LevelChangesSchema(ma.Schema):
    rank = ma.fields.Integer(metadata={"description": "The rank changed to"})
    promotions = ma.fields.Integer()
    demotions = ma.fields.Integer()


class LevelProgressionSchema(ma.Schema):
    per_level = ma.fields.List(
        ma.fields.Nested(LevelMembersSchema), metadata={"description": "Active members now"}
    )
    changes = ma.fields.List(
        ma.fields.Nested(LevelChangesSchema),
        metadata={"description": "Level changes in the period"},
    )
    promotions = ma.fields.Integer()
    demotions = ma.fields.Integer()
    admissions = ma.fields.Integer(metadata={"description": "First levels on approval"})
    time_to_rank_2 = ma.fields.Nested(RankTimeSchema)


class ResolutionHoursSchema(ma.Schema):
    p50 = ma.fields.Float(allow_none=True)
    p90 = ma.fields.Float(allow_none=True)


class DisputesSchema(ma.Schema):
    jobs_completed = ma.fields.Integer(metadata={"description": "Jobs completed in the period"})
    jobs_disputed = ma.fields.Integer(metadata={"description": "Of them, disputed"})
    rate = _rate("jobs_disputed / jobs_completed")
    opened = ma.fields.Integer(metadata={"description": "Dispute tickets opened in the period"})
    resolved = ma.fields.Integer(
        metadata={"description": "Dispute tickets whose last resolution is in the period"}
    )
    resolution_hours = ma.fields.Nested(
        ResolutionHoursSchema, metadata={"description": "Opening → resolution of the resolved ones"}
    )
    open_now = ma.fields.Integer(metadata={"description": "Neither resolved nor closed"})


class CrowdHealthSchema(ma.Schema):
    from_ = ma.fields.Date(data_key="from", attribute="from")
    to = ma.fields.Date()
    filters = ma.fields.Nested(HealthFiltersSchema)
    active_members = ma.fields.Nested(ActiveMembersSchema)
    active_over_time = ma.fields.Nested(
        ActiveOverTimeSchema,
        metadata={
            "description": "Members active (status history) at the end of each week or month"
        },
    )
    activation = ma.fields.Nested(ActivationSchema)
    retention = ma.fields.Nested(RetentionSchema)
    level_progression = ma.fields.Nested(LevelProgressionSchema)
    disputes = ma.fields.Nested(DisputesSchema)


# --- service figures (crowd_health.service_figures) ----------------------------------------


class QuantileMinutesSchema(ma.Schema):
    p50 = ma.fields.Float(allow_none=True)
    p90 = ma.fields.Float(allow_none=True)


class FirstOfferSchema(ma.Schema):
    jobs = ma.fields.Integer(metadata={"description": "Posted jobs that got an offer"})
    minutes = ma.fields.Nested(
        QuantileMinutesSchema, metadata={"description": "Posting → first offer sent"}
    )


class FillWindowSchema(ma.Schema):
    hours = ma.fields.Integer()
    jobs = ma.fields.Integer(metadata={"description": "Posted in the period, ≥ hours ago"})
    filled = ma.fields.Integer(metadata={"description": "Of them, assigned within `hours`"})
    rate = _rate("filled / jobs")


class FillRateSchema(ma.Schema):
    posted = ma.fields.Integer(metadata={"description": "Jobs posted in the period"})
    within_1h = ma.fields.Nested(FillWindowSchema)
    within_24h = ma.fields.Nested(FillWindowSchema)


class EscalationSchema(ma.Schema):
    posted = ma.fields.Integer()
    escalated = ma.fields.Integer(metadata={"description": "Of them, escalated to staff"})
    rate = _rate("escalated / posted")


class RegionRatingSchema(ma.Schema):
    country = ma.fields.String()
    postcode_area = ma.fields.String(allow_none=True)
    reviews = ma.fields.Integer()
    average = ma.fields.Float(allow_none=True)


class SkillRatingSchema(ma.Schema):
    skill_id = ma.fields.Integer()
    skill = ma.fields.String(metadata={"description": "Skill slug"})
    reviews = ma.fields.Integer()
    average = ma.fields.Float(allow_none=True)


class RatingsSchema(ma.Schema):
    reviews = ma.fields.Integer(metadata={"description": "Customers' reviews in the period"})
    average = ma.fields.Float(allow_none=True, metadata={"description": "Stars, 1–5"})
    per_region = ma.fields.List(ma.fields.Nested(RegionRatingSchema))
    per_skill = ma.fields.List(ma.fields.Nested(SkillRatingSchema))


class SlaClockSchema(ma.Schema):
    due = ma.fields.Integer(metadata={"description": "Done, or the deadline has passed"})
    met = ma.fields.Integer(metadata={"description": "Done before the deadline, never breached"})
    rate = _rate("met / due")


class SlaSchema(ma.Schema):
    opened = ma.fields.Integer(metadata={"description": "Tickets opened in the period"})
    first_response = ma.fields.Nested(SlaClockSchema)
    resolution = ma.fields.Nested(SlaClockSchema)


class ScoreCountSchema(ma.Schema):
    score = ma.fields.Integer()
    ratings = ma.fields.Integer()


class PartySatisfactionSchema(ma.Schema):
    party = ma.fields.String()
    ratings = ma.fields.Integer()
    average = ma.fields.Float(allow_none=True)


class SatisfactionSchema(ma.Schema):
    ratings = ma.fields.Integer(metadata={"description": "Ticket ratings given in the period"})
    average = ma.fields.Float(allow_none=True)
    per_score = ma.fields.List(ma.fields.Nested(ScoreCountSchema))
    per_party = ma.fields.List(ma.fields.Nested(PartySatisfactionSchema))


class ServiceFiguresSchema(ma.Schema):
    from_ = ma.fields.Date(data_key="from", attribute="from")
    to = ma.fields.Date()
    filters = ma.fields.Nested(HealthFiltersSchema)
    first_offer = ma.fields.Nested(FirstOfferSchema)
    fill_rate = ma.fields.Nested(FillRateSchema)
    escalation = ma.fields.Nested(EscalationSchema)
    ratings = ma.fields.Nested(RatingsSchema)
    sla = ma.fields.Nested(SlaSchema)
    satisfaction = ma.fields.Nested(SatisfactionSchema)
