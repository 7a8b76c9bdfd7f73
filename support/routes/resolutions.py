"""HTTP for support mediation: resolutions — proposed by staff, answered by the parties."""

from crowd.core.auth import STAFF, current_principal
from crowd.core.openapi import CrowdBlueprint
from crowd.core.pagination import PageArgsSchema, page_of
from support import resolutions as service
from support.schemas import resolutions as schemas

blp = CrowdBlueprint(
    "support_resolutions", __name__, url_prefix="/api/v1", description="Support: resolutions"
)

PARTIES = ("customer", "member")
ONE = "/tickets/<int:ticket_id>/resolutions/<int:resolution_id>"


@blp.route("/tickets/<int:ticket_id>/resolutions", methods=["GET"])
@blp.auth(*PARTIES, *STAFF)
@blp.arguments(PageArgsSchema, location="query")
@blp.response(200, page_of(schemas.ResolutionSchema))
@blp.errors(404)
def list_resolutions(args, ticket_id):
    """The ticket's proposed resolutions and what became of them, oldest first."""
    return service.list_resolutions(actor=current_principal(), ticket_id=ticket_id, **args)


@blp.route("/tickets/<int:ticket_id>/resolutions", methods=["POST"])
@blp.auth(*STAFF)
@blp.idempotent
@blp.arguments(schemas.ResolutionCreateSchema)
@blp.response(201, schemas.ResolutionSchema)
@blp.errors(404, 409, 422)
def propose(data, ticket_id):
    """Propose how to settle a ticket about a job; the ticket moves to resolution_proposed.

    Each party may accept or reject once; both accepting applies it at once, a rejection sends
    the ticket back to mediation, and if nobody rejects it by `respond_by` it applies anyway.
    An amount that does not fit the job's payment is a 422 naming its field; a ticket whose
    state or job does not allow a proposal, a 409 with its `state`.
    """
    return service.propose(actor=current_principal(), ticket_id=ticket_id, **data)


@blp.route(f"{ONE}/answer", methods=["POST"])
@blp.auth(*PARTIES)
@blp.arguments(schemas.ResolutionAnswerSchema)
@blp.response(200, schemas.ResolutionSchema)
@blp.errors(404, 409)
def answer(data, ticket_id, resolution_id):
    """Accept or reject a proposal, once. When both parties have accepted it applies at once:
    the money moves and the ticket is resolved."""
    return service.answer_proposal(
        actor=current_principal(), ticket_id=ticket_id, resolution_id=resolution_id, **data
    )


@blp.route(f"{ONE}/withdraw", methods=["POST"])
@blp.auth(*STAFF)
@blp.response(200, schemas.ResolutionSchema)
@blp.errors(404, 409)
def withdraw(ticket_id, resolution_id):
    """Take a live proposal back; the ticket returns to mediation."""
    return service.withdraw(
        actor=current_principal(), ticket_id=ticket_id, resolution_id=resolution_id
    )


@blp.route(f"{ONE}/impose", methods=["POST"])
@blp.auth(*STAFF)
@blp.response(200, schemas.ResolutionSchema)
@blp.errors(404, 409)
def impose(ticket_id, resolution_id):
    """Apply a live proposal now, whatever the parties answered so far."""
    return service.impose(
        actor=current_principal(), ticket_id=ticket_id, resolution_id=resolution_id
    )
