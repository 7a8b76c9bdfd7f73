"""HTTP for onboarding: level rule sets, dry runs, level locks and level history."""

from crowd.core.auth import STAFF, current_principal
from crowd.core.openapi import CrowdBlueprint
from crowd.core.pagination import PageArgsSchema
from onboarding.levels import evaluation, rules, standing
from onboarding.levels.metrics import METRICS
from onboarding.schemas import levels as schemas

blp = CrowdBlueprint(
    "onboarding_levels", __name__, url_prefix="/api/v1", description="Onboarding: levels"
)

ADMIN = "admin"
MEMBER = "member"
RULESET = "/level-rulesets/<int:ruleset_id>"
MEMBER_LEVEL = "/members/<int:member_id>/level"


@blp.route("/levels/metrics", methods=["GET"])
@blp.auth()
@blp.response(200, schemas.MetricCatalogueSchema)
def list_metrics():
    """The metrics level requirements are written over: name, kind and meaning."""
    return {"items": list(METRICS.values())}


# --- rule sets ------------------------------------------------------------------------------


@blp.route("/level-rulesets", methods=["POST"])
@blp.auth(ADMIN)
@blp.idempotent
@blp.arguments(schemas.RulesetWriteSchema)
@blp.response(201, schemas.RulesetSchema)
def create_ruleset(data):
    """Create a draft rule set (the next version): hysteresis settings and the whole ladder.

    Levels rank 1..n (1 is the entry level admission gives), unique codes; requirements name
    a metric of GET /levels/metrics with exactly one of `min` or `max`; plan codes must exist;
    categories are skill category slugs (null = every category). A draft changes nothing
    until it is activated; dry-run it first.
    """
    return rules.create_ruleset(actor=current_principal(), **data)


@blp.route("/level-rulesets", methods=["GET"])
@blp.auth(*STAFF)
@blp.arguments(schemas.RulesetQueryArgsSchema, location="query")
@blp.response(200, schemas.RulesetPageSchema)
def list_rulesets(args):
    """Every rule set version, newest first (filter by status)."""
    return rules.list_rulesets(actor=current_principal(), **args)


@blp.route("/level-rulesets/active", methods=["GET"])
@blp.auth(*STAFF)
@blp.response(200, schemas.RulesetSchema)
def get_active_ruleset():
    """The rule set in force."""
    return rules.show_active_ruleset(actor=current_principal())


@blp.route(RULESET, methods=["GET"])
@blp.auth(*STAFF)
@blp.response(200, schemas.RulesetSchema)
@blp.errors(404)
def get_ruleset(ruleset_id):
    """One rule set version with its levels."""
    return rules.show_ruleset(actor=current_principal(), ruleset_id=ruleset_id)


@blp.route(RULESET, methods=["PUT"])
@blp.auth(ADMIN)
@blp.arguments(schemas.RulesetWriteSchema)
@blp.response(200, schemas.RulesetSchema)
@blp.errors(404, 409)
def update_ruleset(data, ruleset_id):
    """Replace a draft's settings and levels; an active or retired rule set is a 409."""
    return rules.update_ruleset(actor=current_principal(), ruleset_id=ruleset_id, **data)


@blp.route(f"{RULESET}/activate", methods=["POST"])
@blp.auth(ADMIN)
@blp.response(200, schemas.RulesetSchema)
@blp.errors(404, 409)
def activate_ruleset(ruleset_id):
    """Put a draft in force: the active rule set retires and the whole crowd is evaluated
    against the new one in the background (changes recorded with cause "ruleset").

    Only drafts (409 with `state` otherwise); of two simultaneous activations one wins, the
    other gets a 409 with state "superseded".
    """
    return rules.activate_ruleset(actor=current_principal(), ruleset_id=ruleset_id)


@blp.route(f"{RULESET}/dry-run", methods=["POST"])
@blp.auth(*STAFF)
@blp.arguments(schemas.DryRunArgsSchema, location="query")
@blp.response(200, schemas.DryRunSchema)
@blp.errors(404)
def dry_run(args, ruleset_id):
    """Who this rule set (a draft, or the active one) would promote and demote now.

    The same evaluation as the daily run, over the whole crowd, writing nothing. Locked
    members are counted as skipped; members who would be demoted but are in their grace
    period are counted in `in_grace`. At most `limit` changes are listed (`truncated`).
    """
    return evaluation.dry_run(actor=current_principal(), ruleset_id=ruleset_id, **args)


@blp.route("/level-evaluations", methods=["POST"])
@blp.auth(ADMIN)
@blp.idempotent
@blp.response(202, schemas.EvaluationQueuedSchema)
def run_evaluation():
    """Run the crowd-wide level evaluation now: the real run (not a dry run), the one the
    scheduler runs daily, against the active rule set.

    It is queued and runs in the background right after this request; promotions and
    demotions are recorded with cause "manual" (see GET /members/{member_id}/level/changes)
    and notified as the daily run's are. Running it again changes nothing more.
    """
    return evaluation.queue_crowd_evaluation(actor=current_principal())


# --- a member's level -----------------------------------------------------------------------


@blp.route(MEMBER_LEVEL, methods=["GET"])
@blp.auth(*STAFF)
@blp.response(200, schemas.StaffLevelSchema)
@blp.errors(404)
def get_member_level(member_id):
    """A member's level as they see it on GET /me/level (what keeps it, what the next level
    needs, lock, grace), plus who locked it and when, tenure start and capacity."""
    return standing.member_standing(actor=current_principal(), member_id=member_id)


@blp.route(f"{MEMBER_LEVEL}/lock", methods=["POST"])
@blp.auth(*STAFF)
@blp.arguments(schemas.LevelLockSchema)
@blp.response(200, schemas.StaffLevelSchema)
@blp.errors(404, 409)
def lock_level(data, member_id):
    """Lock a member's level so that events and daily runs leave it alone.

    With `level` (a code of the active rule set) the member is set to that level first,
    recorded as a manual change with your reason. A member without a level yet is a 409.
    """
    return standing.lock_level(actor=current_principal(), member_id=member_id, **data)


@blp.route(f"{MEMBER_LEVEL}/lock", methods=["DELETE"])
@blp.auth(*STAFF)
@blp.response(200, schemas.StaffLevelSchema)
@blp.errors(404)
def unlock_level(member_id):
    """Lift the lock (idempotent); the next event or daily run evaluates the member again."""
    return standing.unlock_level(actor=current_principal(), member_id=member_id)


@blp.route(f"{MEMBER_LEVEL}/changes", methods=["GET"])
@blp.auth(MEMBER, *STAFF)
@blp.arguments(PageArgsSchema, location="query")
@blp.response(200, schemas.LevelChangePageSchema)
@blp.errors(404)
def member_level_changes(args, member_id):
    """A member's level changes, newest first (staff, or the member themself)."""
    return standing.member_changes(actor=current_principal(), member_id=member_id, **args)


@blp.route("/me/level/changes", methods=["GET"])
@blp.auth(MEMBER)
@blp.arguments(PageArgsSchema, location="query")
@blp.response(200, schemas.LevelChangePageSchema)
@blp.errors(404)
def own_level_changes(args):
    """Your level changes, newest first: from, to, rule version, cause and your figures."""
    return standing.own_changes(actor=current_principal(), **args)
