"""HTTP for onboarding: a member's level, what the next level needs, and level privileges."""

from crowd.core.auth import current_principal
from crowd.core.openapi import CrowdBlueprint
from onboarding.levels import progress
from onboarding.schemas import progress as schemas
from payouts.schemas.plans import MyPlanSchema

blp = CrowdBlueprint(
    "onboarding_progress", __name__, url_prefix="/api/v1", description="Onboarding: level progress"
)

MEMBER = "member"


@blp.route("/levels", methods=["GET"])
@blp.auth()
@blp.response(200, schemas.LadderSchema)
def get_ladder():
    """The level ladder in force: what each level needs and what it gives."""
    return progress.ladder_overview()


@blp.route("/me/level", methods=["GET"])
@blp.auth(MEMBER)
@blp.response(200, schemas.LevelOverviewSchema)
@blp.errors(404)
def get_my_level():
    """Your level, how safely you keep it, and how far you are from the next one.

    `keep` lists the requirements of your level and those below (the strictest per metric):
    you keep the level while each is met within the demotion tolerance (`keep_threshold`);
    `at_risk` marks those met only thanks to it. A promotion protects you from demotion until
    `grace_until`; a level a community manager locked stays. `next_level` (null at the top)
    shows, per requirement, your figure, the gap and a progress percentage. An applicant has
    no level yet (`level` null, with a `hint`).
    """
    return progress.my_level(actor=current_principal())


@blp.route("/me/level/plan", methods=["POST"])
@blp.auth(MEMBER)
@blp.idempotent
@blp.arguments(schemas.PlanChoiceSchema)
@blp.response(200, MyPlanSchema)
@blp.errors(404, 409)
def choose_plan(data):
    """Choose a commission plan your level offers, from now on; returns your plan overview.

    A plan your level does not offer is a 409 with state `not_offered`; an unknown plan, 404.
    Choosing the plan you are on already changes nothing.
    """
    return progress.choose_plan(actor=current_principal(), **data)
