"""API contract for the level ladder, a member's level progress and choosing a plan by level."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate


def _figure(description: str, **kwargs) -> ma.fields.Raw:
    """A metric's value: a whole number (counts, days) or a decimal (rates, ratings)."""
    return ma.fields.Raw(metadata={"type": "number", "description": description}, **kwargs)


class PrivilegesSchema(ma.Schema):
    """What a level gives."""

    max_concurrent_jobs = ma.fields.Integer(metadata={"description": "Jobs at once, at most"})
    job_min_level_up_to = ma.fields.Integer(
        metadata={"description": "Jobs whose minimum level rank is at most this are open"}
    )
    categories = ma.fields.List(
        ma.fields.String(),
        allow_none=True,
        metadata={"description": "Category slugs the level may take; null = every category"},
    )
    plan_codes = ma.fields.List(
        ma.fields.String(), metadata={"description": "Commission plans the member may choose"}
    )


class LadderRuleSchema(ma.Schema):
    """A requirement: the metric, and either `min` or `max`."""

    metric = ma.fields.String()
    kind = ma.fields.String(metadata={"description": "count, rate (0..1), rating (1..5), days"})
    description = ma.fields.String()
    min = _figure("The metric must be at least this")
    max = _figure("The metric must be at most this")


class LadderLevelSchema(ma.Schema):
    rank = ma.fields.Integer()
    code = ma.fields.String()
    name = ma.fields.String()
    requirements = ma.fields.List(ma.fields.Nested(LadderRuleSchema))
    privileges = ma.fields.Nested(PrivilegesSchema)


class LadderSchema(ma.Schema):
    """The active level rule set: each level's requirements and privileges, lowest first."""

    ruleset_version = ma.fields.Integer()
    demotion_tolerance_percent = ma.fields.Integer(
        metadata={"description": "A level is kept while each requirement is met to this %"}
    )
    grace_days = ma.fields.Integer(
        metadata={"description": "No demotion within this many days after a promotion"}
    )
    activated_at = ma.fields.DateTime(allow_none=True)
    levels = ma.fields.List(ma.fields.Nested(LadderLevelSchema))


class HeldLevelSchema(ma.Schema):
    rank = ma.fields.Integer()
    code = ma.fields.String()
    name = ma.fields.String()
    privileges = ma.fields.Nested(PrivilegesSchema)


class RequirementKeepSchema(ma.Schema):
    """A requirement of the member's level (or one below) and how safely it is kept."""

    level = ma.fields.String(metadata={"description": "Code of the level the rule comes from"})
    metric = ma.fields.String()
    kind = ma.fields.String()
    min = _figure("The rule's minimum")
    max = _figure("The rule's maximum")
    required = _figure("The rule's bound (the min or the max)")
    keep_threshold = _figure("Where demotion starts: the bound with the demotion tolerance")
    current = _figure("The member's figure now (null: no data yet)", allow_none=True)
    met = ma.fields.Boolean(metadata={"description": "Met strictly"})
    kept = ma.fields.Boolean(metadata={"description": "Met within the demotion tolerance"})
    at_risk = ma.fields.Boolean(
        metadata={"description": "Kept only thanks to the tolerance: met within it, not strictly"}
    )


class RequirementProgressSchema(ma.Schema):
    """A requirement for the next level and how far the member is from it. A promotion needs
    every level up to the next one met, so this lists the strictest rule per metric among them."""

    level = ma.fields.String(metadata={"description": "Code of the level the rule comes from"})
    metric = ma.fields.String()
    kind = ma.fields.String()
    min = _figure("The rule's minimum")
    max = _figure("The rule's maximum")
    required = _figure("The rule's bound (the min or the max)")
    current = _figure("The member's figure now (null: no data yet)", allow_none=True)
    met = ma.fields.Boolean()
    gap = _figure(
        "How far: required − current for a minimum, current − required for a maximum; "
        "0 when met; null without data",
        allow_none=True,
    )
    progress_percent = ma.fields.Integer(metadata={"description": "0..100; 100 only when met"})


class NextLevelSchema(ma.Schema):
    rank = ma.fields.Integer()
    code = ma.fields.String()
    name = ma.fields.String()
    requirements = ma.fields.List(ma.fields.Nested(RequirementProgressSchema))
    met_count = ma.fields.Integer()
    total = ma.fields.Integer()


class LadderStepSchema(ma.Schema):
    rank = ma.fields.Integer()
    code = ma.fields.String()
    name = ma.fields.String()


class LevelOverviewSchema(ma.Schema):
    """Where a member stands: level, lock, grace, figures, what keeps the level, what is next."""

    member_id = ma.fields.Integer()
    ruleset_version = ma.fields.Integer()
    status = ma.fields.String(metadata={"description": "The member's status"})
    level = ma.fields.Nested(
        HeldLevelSchema, allow_none=True, metadata={"description": "null: no level yet (applicant)"}
    )
    hint = ma.fields.String(allow_none=True)
    locked = ma.fields.Boolean(
        metadata={"description": "A community manager holds the level where it is"}
    )
    lock_reason = ma.fields.String(allow_none=True)
    level_since = ma.fields.DateTime(allow_none=True)
    promoted_at = ma.fields.DateTime(allow_none=True)
    grace_until = ma.fields.DateTime(
        allow_none=True, metadata={"description": "No demotion before this (after a promotion)"}
    )
    metrics = ma.fields.Dict(keys=ma.fields.String(), values=_figure("", allow_none=True))
    keep = ma.fields.List(ma.fields.Nested(RequirementKeepSchema))
    next_level = ma.fields.Nested(
        NextLevelSchema, allow_none=True, metadata={"description": "null at the top"}
    )
    ladder = ma.fields.List(ma.fields.Nested(LadderStepSchema))


class PlanChoiceSchema(ma.Schema):
    """A commission plan the member's level offers (see privileges.plan_codes)."""

    plan_code = ma.fields.String(
        required=True, validate=validate.Length(min=1, max=40), metadata={"example": "standard"}
    )
