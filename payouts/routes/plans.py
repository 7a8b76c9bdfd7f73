"""HTTP for money: commission plans, members' plan assignments, and a member's own plan."""

from crowd.core.auth import STAFF, current_principal
from crowd.core.openapi import CrowdBlueprint
from payouts import plans
from payouts.schemas.plans import (
    MemberPlanOverviewSchema,
    MemberPlanSchema,
    MyPlanSchema,
    OrganisationPlanAssignSchema,
    OrganisationPlanSchema,
    PlanAssignSchema,
    PlanCreateSchema,
    PlanQueryArgsSchema,
    PlanSchema,
    PlanUpdateSchema,
)

blp = CrowdBlueprint("payouts_plans", __name__, url_prefix="/api/v1", description="Money: plans")

ADMIN = "admin"
MEMBER = "member"


@blp.route("/plans", methods=["GET"])
@blp.auth(*STAFF)
@blp.arguments(PlanQueryArgsSchema, location="query")
@blp.response(200, PlanSchema(many=True))
def list_plans(args):
    """Every commission plan a member can be on, by code: the standard plan (everyone's
    default, 20 % unless stored otherwise) always among them, even before it is stored."""
    return plans.list_plans(actor=current_principal(), **args)


@blp.route("/plans", methods=["POST"])
@blp.auth(ADMIN)
@blp.idempotent
@blp.arguments(PlanCreateSchema)
@blp.response(201, PlanSchema)
@blp.errors(409, 422)
def create_plan(data):
    """Create a plan: a percentage per job, a monthly flat fee, or a fixed fee per job."""
    return plans.create_plan(actor=current_principal(), **data)


@blp.route("/plans/<string:code>", methods=["PATCH"])
@blp.auth(ADMIN)
@blp.arguments(PlanUpdateSchema)
@blp.response(200, PlanSchema)
@blp.errors(404, 409, 422)
def update_plan(data, code):
    """Rename or (de)activate a plan. Amounts of a plan in use never change (409): create a
    new plan and assign it instead."""
    return plans.update_plan(actor=current_principal(), code=code, **data)


@blp.route("/members/<int:member_id>/plan", methods=["POST"])
@blp.auth(ADMIN)
@blp.idempotent
@blp.arguments(PlanAssignSchema)
@blp.response(201, MemberPlanSchema)
@blp.errors(404, 409, 422)
def assign_plan(data, member_id):
    """Put a member on a plan from effective_from (default now); the current one ends there.
    An overlap with another assignment is refused with 409."""
    return plans.assign_plan(actor=current_principal(), member_id=member_id, **data)


@blp.route("/organisations/<int:organisation_id>/plan", methods=["PUT"])
@blp.auth(ADMIN)
@blp.arguments(OrganisationPlanAssignSchema)
@blp.response(200, OrganisationPlanSchema)
@blp.errors(404, 409, 422)
def assign_organisation_plan(data, organisation_id):
    """Put a provider company on a plan from now: its technicians' jobs settle on it (jobs
    settled before keep theirs). A company never put on one is on the standard plan."""
    return plans.assign_organisation_plan(
        actor=current_principal(), organisation_id=organisation_id, **data
    )


@blp.route("/members/<int:member_id>/plans", methods=["GET"])
@blp.auth(MEMBER, *STAFF)
@blp.response(200, MemberPlanOverviewSchema)
@blp.errors(404)
def member_plans(member_id):
    """A member's plan now, their plan history and perks (staff, or the member themself)."""
    return plans.member_plans(actor=current_principal(), member_id=member_id)


@blp.route("/me/plan", methods=["GET"])
@blp.auth(MEMBER)
@blp.response(200, MyPlanSchema)
@blp.errors(404)
def my_plan():
    """Your plan now, your perks, and what a 100.00 job would cost you in EUR and in CHF."""
    return plans.my_plan(actor=current_principal())
