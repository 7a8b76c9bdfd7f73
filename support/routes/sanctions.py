"""HTTP for support mediation: sanctions on members (house rules)."""

from crowd.core.auth import STAFF, current_principal
from crowd.core.openapi import CrowdBlueprint
from crowd.core.pagination import PageArgsSchema, page_of
from support import sanctions as service
from support.schemas import sanctions as schemas

blp = CrowdBlueprint(
    "support_sanctions", __name__, url_prefix="/api/v1", description="Support: sanctions"
)

SANCTIONS = "/members/<int:member_id>/sanctions"


@blp.route(SANCTIONS, methods=["POST"])
@blp.auth(*STAFF)
@blp.idempotent
@blp.arguments(schemas.SanctionCreateSchema)
@blp.response(201, schemas.SanctionCreatedSchema)
@blp.errors(404, 409, 422)
def sanction_member(data, member_id):
    """Warn, suspend or reinstate a member, with the reason they are told.

    Suspending takes the member out of matching and withdraws their pending offers (those
    jobs go on to their next candidates); jobs already assigned stay with them and are listed
    in `assigned_job_ids`. A status that does not allow the change is a 409 with `state`.
    """
    return service.sanction_member(actor=current_principal(), member_id=member_id, **data)


@blp.route(SANCTIONS, methods=["GET"])
@blp.auth("member", *STAFF)
@blp.arguments(PageArgsSchema, location="query")
@blp.response(200, page_of(schemas.SanctionSchema))
@blp.errors(404)
def list_sanctions(args, member_id):
    """A member's sanctions, oldest first (staff, or the member themself)."""
    return service.list_sanctions(actor=current_principal(), member_id=member_id, **args)
