"""API contract for level rule sets, evaluation dry runs, level locks and level history."""

import marshmallow as ma
from marshmallow import validate

from crowd.core.fields import within_documented_length
from crowd.core.i18n import _
from crowd.core.pagination import PageArgsSchema, page_of
from crowd.core.patterns import Pattern
from onboarding.levels.evaluation import DRY_RUN_LIMIT, DRY_RUN_MAX
from onboarding.levels.metrics import METRICS
from onboarding.models import LEVEL_CHANGE_CAUSES, RULESET_STATUSES
from onboarding.schemas.progress import LevelOverviewSchema

SLUG = Pattern(r"[a-z][a-z0-9_]*", error="lower-case letters, digits and _")
# The range a requirement's bound may take, by the kind of metric.
BOUNDS = {"rate": (0, 1), "rating": (1, 5), "count": (0, 1_000_000), "days": (0, 36_500)}
MAX_LEVELS = 20
MAX_REQUIREMENTS = 20


def _strip_strings(schema: ma.Schema, data):
    """Trim surrounding whitespace; a value longer than its field's documented maximum stays
    as sent, so that maximum refuses it."""
    if not isinstance(data, dict):
        return data
    return {
        k: v.strip()
        if isinstance(v, str) and within_documented_length(schema.fields.get(k), v)
        else v
        for k, v in data.items()
    }


# --- metrics --------------------------------------------------------------------------------


class MetricSchema(ma.Schema):
    name = ma.fields.String()
    kind = ma.fields.String(metadata={"description": "count, rate (0..1), rating (1..5) or days"})
    description = ma.fields.String()


class MetricCatalogueSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(MetricSchema))


# --- rule sets ------------------------------------------------------------------------------


class RequirementSchema(ma.Schema):
    """One rule over a metric: {"metric", "min"} or {"metric", "max"}, never both."""

    metric = ma.fields.String(required=True, validate=validate.OneOf(sorted(METRICS)))
    min = ma.fields.Float(allow_nan=False, metadata={"description": "Met at or above this"})
    max = ma.fields.Float(allow_nan=False, metadata={"description": "Met at or below this"})

    @ma.validates_schema
    def one_bound_in_range(self, data, **kwargs):
        bounds = [b for b in ("min", "max") if b in data]
        if len(bounds) != 1:
            raise ma.ValidationError(_("give exactly one of min or max"), "min")
        bound, value = bounds[0], data[bounds[0]]
        metric = METRICS.get(data.get("metric"))
        if metric is None:
            return
        low, high = BOUNDS[metric.kind]
        if not low <= value <= high:
            raise ma.ValidationError(
                _(
                    "a {metric_kind} lies between {low} and {high}",
                    metric_kind=metric.kind,
                    low=low,
                    high=high,
                ),
                bound,
            )
        if metric.kind in ("count", "days") and not float(value).is_integer():
            raise ma.ValidationError(
                _("a {metric_kind} is a whole number", metric_kind=metric.kind), bound
            )

    @ma.post_load
    def whole_counts(self, data, **kwargs):
        kind = METRICS[data["metric"]].kind
        bound = "min" if "min" in data else "max"
        value = data[bound]
        value = int(value) if kind in ("count", "days") else value
        return {"metric": data["metric"], bound: value}


class LevelWriteSchema(ma.Schema):
    """A level: what it takes (requirements) and what it gives (privileges)."""

    rank = ma.fields.Integer(
        required=True,
        strict=True,
        validate=validate.Range(1, MAX_LEVELS),
        metadata={"description": "1 = the entry level admission gives; ranks run 1..n"},
    )
    code = ma.fields.String(required=True, validate=[validate.Length(1, 40), SLUG])
    name = ma.fields.String(required=True, validate=validate.Length(1, 80))
    requirements = ma.fields.List(
        ma.fields.Nested(RequirementSchema),
        load_default=list,
        validate=validate.Length(max=MAX_REQUIREMENTS),
    )
    max_concurrent_jobs = ma.fields.Integer(
        required=True, strict=True, validate=validate.Range(1, 20)
    )
    plan_codes = ma.fields.List(
        ma.fields.String(validate=validate.Length(1, 40)),
        load_default=lambda: ["standard"],
        validate=validate.Length(1, 20),
        metadata={"description": "Commission plans a member of this level may choose"},
    )
    default_plan_code = ma.fields.String(
        allow_none=True,
        load_default=None,
        validate=validate.Length(1, 40),
        metadata={
            "description": "The plan a promotion to this level moves a member to (one of "
            "plan_codes; a member keeps a cheaper one the level offers); null: promotions "
            "keep the member's plan"
        },
    )
    categories = ma.fields.List(
        ma.fields.String(validate=validate.Length(1, 60)),
        allow_none=True,
        load_default=None,
        validate=validate.Length(1, 50),
        metadata={"description": "Skill category slugs this level may take; null = all"},
    )

    @ma.pre_load
    def strip(self, data, **kwargs):
        return _strip_strings(self, data)

    @ma.validates_schema
    def no_repeats(self, data, **kwargs):
        seen = set()
        for rule in data.get("requirements", []):
            key = (rule["metric"], "min" if "min" in rule else "max")
            if key in seen:
                raise ma.ValidationError(
                    _("{value} of {value2} is given twice", value=key[1], value2=key[0]),
                    "requirements",
                )
            seen.add(key)
        for name in ("plan_codes", "categories"):
            values = data.get(name) or []
            if len(set(values)) != len(values):
                raise ma.ValidationError(_("lists a value twice"), name)
        default = data.get("default_plan_code")
        if default is not None and default not in data.get("plan_codes", []):
            raise ma.ValidationError(
                _("must be one of the level's plan_codes"), "default_plan_code"
            )


class RulesetWriteSchema(ma.Schema):
    """A whole rule set: hysteresis settings and the complete ladder (PUT replaces it all)."""

    note = ma.fields.String(allow_none=True, load_default=None, validate=validate.Length(max=1000))
    demotion_tolerance_percent = ma.fields.Integer(
        load_default=90,
        strict=True,
        validate=validate.Range(1, 100),
        metadata={"description": "A member keeps a level while within this % of each rule"},
    )
    grace_days = ma.fields.Integer(
        load_default=14,
        strict=True,
        validate=validate.Range(0, 365),
        metadata={"description": "No demotion within this many days after a promotion"},
    )
    levels = ma.fields.List(
        ma.fields.Nested(LevelWriteSchema),
        required=True,
        validate=validate.Length(1, MAX_LEVELS),
    )

    @ma.validates_schema
    def ladder_shape(self, data, **kwargs):
        levels = data.get("levels") or []
        ranks = sorted(level["rank"] for level in levels)
        if ranks != list(range(1, len(levels) + 1)):
            raise ma.ValidationError(
                _(
                    "ranks must run 1..{levels} without gaps or repeats, not {ranks}",
                    levels=len(levels),
                    ranks=ranks,
                ),
                "levels",
            )
        codes = [level["code"] for level in levels]
        repeated = sorted({code for code in codes if codes.count(code) > 1})
        if repeated:
            raise ma.ValidationError(
                _("codes must be unique: {value}", value=", ".join(repeated)), "levels"
            )


class RulesetLevelSchema(ma.Schema):
    rank = ma.fields.Integer()
    code = ma.fields.String()
    name = ma.fields.String()
    requirements = ma.fields.List(ma.fields.Raw())
    max_concurrent_jobs = ma.fields.Integer()
    plan_codes = ma.fields.List(ma.fields.String())
    default_plan_code = ma.fields.String(allow_none=True)
    restricts_categories = ma.fields.Boolean()
    categories = ma.fields.List(ma.fields.String(), allow_none=True)


class RulesetSchema(ma.Schema):
    id = ma.fields.Integer()
    version = ma.fields.Integer()
    status = ma.fields.String(metadata={"description": "draft, active or retired"})
    note = ma.fields.String(allow_none=True)
    demotion_tolerance_percent = ma.fields.Integer()
    grace_days = ma.fields.Integer()
    created_by_id = ma.fields.Integer(allow_none=True)
    created_at = ma.fields.DateTime()
    activated_at = ma.fields.DateTime(allow_none=True)
    activated_by_id = ma.fields.Integer(allow_none=True)
    levels = ma.fields.List(ma.fields.Nested(RulesetLevelSchema))


class RulesetQueryArgsSchema(PageArgsSchema):
    status = ma.fields.String(validate=validate.OneOf(RULESET_STATUSES))


# --- dry run --------------------------------------------------------------------------------


class DryRunArgsSchema(ma.Schema):
    limit = ma.fields.Integer(
        load_default=DRY_RUN_LIMIT,
        validate=validate.Range(1, DRY_RUN_MAX),
        metadata={"description": f"Changes listed at most (default {DRY_RUN_LIMIT})"},
    )


class DryRunChangeSchema(ma.Schema):
    member_id = ma.fields.Integer()
    display_name = ma.fields.String(allow_none=True)
    from_rank = ma.fields.Integer()
    from_code = ma.fields.String(allow_none=True)
    to_rank = ma.fields.Integer()
    to_code = ma.fields.String(allow_none=True)
    direction = ma.fields.String(metadata={"description": "up or down"})
    clamped = ma.fields.Boolean(
        metadata={"description": "The member's rank is above this ladder's top"}
    )
    failing = ma.fields.List(
        ma.fields.String(), metadata={"description": "Metrics not kept (demotions)"}
    )
    metrics = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Raw(allow_none=True))


class DryRunSchema(ma.Schema):
    ruleset_id = ma.fields.Integer()
    ruleset_version = ma.fields.Integer()
    evaluated_at = ma.fields.DateTime()
    evaluated = ma.fields.Integer(metadata={"description": "Active and paused members ranked"})
    promoted = ma.fields.Integer()
    demoted = ma.fields.Integer()
    unchanged = ma.fields.Integer(metadata={"description": "Includes those in grace"})
    skipped_locked = ma.fields.Integer()
    in_grace = ma.fields.Integer(metadata={"description": "Would be demoted but for the grace"})
    truncated = ma.fields.Boolean(metadata={"description": "More changes than `limit`"})
    changes = ma.fields.List(ma.fields.Nested(DryRunChangeSchema))


class EvaluationQueuedSchema(ma.Schema):
    """A crowd-wide level evaluation an admin started: queued, it runs in the background."""

    status = ma.fields.String(metadata={"description": "queued"})
    cause = ma.fields.String(metadata={"description": "manual: the level changes' cause"})
    detail = ma.fields.String(metadata={"description": "The level changes' detail"})
    ruleset_version = ma.fields.Integer(
        allow_none=True, metadata={"description": "The active rule set it evaluates against"}
    )
    queued_at = ma.fields.DateTime()


# --- a member's standing --------------------------------------------------------------------


class StaffLevelSchema(LevelOverviewSchema):
    """A member's level as they see it (GET /me/level), plus what staff handle."""

    rank = ma.fields.Integer(metadata={"description": "0 = no level yet"})
    max_concurrent_jobs = ma.fields.Integer()
    locked_by_id = ma.fields.Integer(allow_none=True)
    locked_at = ma.fields.DateTime(allow_none=True)
    active_since = ma.fields.DateTime(
        allow_none=True, metadata={"description": "Admission: tenure counts from here"}
    )


class LevelLockSchema(ma.Schema):
    reason = ma.fields.String(
        required=True,
        validate=validate.Length(1, 500),
        metadata={"description": "Why; recorded on the lock (and on the change, with level)"},
    )
    level = ma.fields.String(
        validate=validate.Length(1, 40),
        metadata={"description": "A level code of the active rule set: set it now, then lock"},
    )

    @ma.pre_load
    def strip(self, data, **kwargs):
        return _strip_strings(self, data)


class LevelChangeSchema(ma.Schema):
    id = ma.fields.Integer()
    member_id = ma.fields.Integer()
    from_rank = ma.fields.Integer()
    from_code = ma.fields.String(allow_none=True)
    to_rank = ma.fields.Integer()
    to_code = ma.fields.String()
    direction = ma.fields.Function(lambda c: "up" if c.to_rank > c.from_rank else "down")
    ruleset_version = ma.fields.Integer()
    cause = ma.fields.String(metadata={"description": ", ".join(LEVEL_CHANGE_CAUSES)})
    detail = ma.fields.String(allow_none=True)
    metrics = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Raw(allow_none=True))
    changed_by_id = ma.fields.Integer(allow_none=True)
    created_at = ma.fields.DateTime()


LevelChangePageSchema = page_of(LevelChangeSchema)
RulesetPageSchema = page_of(RulesetSchema)
