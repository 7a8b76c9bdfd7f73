"""HTTP for onboarding: the training catalogue and who completed which module."""

from flask import Response

from crowd.core.auth import STAFF, current_principal
from crowd.core.openapi import CrowdBlueprint
from crowd.core.pagination import PageArgsSchema
from onboarding.levels import training
from onboarding.schemas import training as schemas

blp = CrowdBlueprint(
    "onboarding_training", __name__, url_prefix="/api/v1", description="Onboarding: training"
)

MEMBER = "member"
STAFF_OR_SELF = (MEMBER, *STAFF)


@blp.route("/training-modules", methods=["POST"])
@blp.auth(*STAFF)
@blp.idempotent
@blp.arguments(schemas.TrainingModuleCreateSchema)
@blp.response(201, schemas.TrainingModuleSchema)
@blp.errors(409, 422)
def create_module(data):
    """Add a module to the training catalogue; a code in use is a 409."""
    return training.create_module(actor=current_principal(), **data)


@blp.route("/training-modules/<string:code>", methods=["PATCH"])
@blp.auth(*STAFF)
@blp.arguments(schemas.TrainingModuleUpdateSchema)
@blp.response(200, schemas.TrainingModuleSchema)
@blp.errors(404)
def update_module(data, code):
    """Change a module's title, description or duration, or (de)activate it.

    Completions of an inactive module do not count towards level requirements.
    """
    return training.update_module(actor=current_principal(), code=code, **data)


@blp.route("/training-modules", methods=["GET"])
@blp.auth(*STAFF_OR_SELF)
@blp.arguments(schemas.TrainingModuleQueryArgsSchema, location="query")
@blp.response(200, schemas.TrainingModulePageSchema)
@blp.errors(404)
def list_modules(args):
    """The training catalogue by code. Members see the active modules, each with when they
    completed it (`completed_at`); staff see every module and may filter by `active`. Each
    module lists the published help centre articles linked to it (`articles`)."""
    return training.list_modules(actor=current_principal(), **args)


@blp.route("/me/training/<string:code>/complete", methods=["POST"])
@blp.auth(MEMBER)
@blp.response(200, schemas.TrainingRecordedSchema)
@blp.errors(404, 409)
def complete_module(code):
    """Mark a self-paced module done; again, the first completion stands (same completed_at).

    Attended modules are recorded by a community manager (409, state `attended_only`). A
    completion may promote you at once (`level_change`). Applicants may train too.
    """
    return training.complete_own(actor=current_principal(), code=code)


@blp.route("/me/training", methods=["GET"])
@blp.auth(MEMBER)
@blp.arguments(PageArgsSchema, location="query")
@blp.response(200, schemas.TrainingCompletionPageSchema)
@blp.errors(404)
def my_completions(args):
    """The training modules you completed."""
    return training.completions(actor=current_principal(), **args)


@blp.route("/members/<int:member_id>/training", methods=["GET"])
@blp.auth(*STAFF_OR_SELF)
@blp.arguments(PageArgsSchema, location="query")
@blp.response(200, schemas.TrainingCompletionPageSchema)
@blp.errors(404)
def member_completions(args, member_id):
    """The training modules a member completed (staff, or the member themself)."""
    return training.completions(actor=current_principal(), member_id=member_id, **args)


@blp.route("/members/<int:member_id>/training/<string:code>", methods=["POST"])
@blp.auth(*STAFF)
@blp.response(200, schemas.TrainingRecordedSchema)
@blp.errors(404, 409)
def record_completion(member_id, code):
    """Record that a member completed (attended) an active module; recording it again
    keeps the first record. The completion may promote the member at once."""
    return training.record_for_member(actor=current_principal(), member_id=member_id, code=code)


@blp.route("/members/<int:member_id>/training/<string:code>", methods=["DELETE"])
@blp.auth(*STAFF)
@blp.response(204)
@blp.errors(404)
def withdraw_completion(member_id, code):
    """Withdraw a wrongly recorded completion (the daily evaluation reconsiders the level)."""
    training.withdraw(actor=current_principal(), member_id=member_id, code=code)
    return Response(status=204)
