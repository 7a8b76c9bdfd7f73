"""HTTP for jobs: the dispatch board and staff dispatch actions — send a wave now, offer the job
to a chosen member, assign a member directly."""

from crowd.core.auth import STAFF, current_principal
from crowd.core.openapi import CrowdBlueprint
from jobs import assignment, board, dispatch, targeted
from jobs.schemas import board as board_schemas
from jobs.schemas import offers as schemas

blp = CrowdBlueprint("jobs_dispatch", __name__, url_prefix="/api/v1", description="Jobs: dispatch")


@blp.route("/staff/jobs/<int:job_id>/dispatch", methods=["POST"])
@blp.auth(*STAFF)
@blp.idempotent
@blp.response(200, schemas.DispatchStateSchema)
@blp.errors(404, 409)
def dispatch_now(job_id):
    """Send the next wave of offers now, e.g. for an escalated job.

    Only an open job (not one with offers pending) can be dispatched; the escalation is
    cleared and a fresh round of waves begins. When no eligible member is left to offer the
    job to, 409: assign one directly instead.
    """
    outcome = dispatch.dispatch_now(actor=current_principal(), job_id=job_id)
    return _state(outcome.job, outcome.offers)


@blp.route("/staff/jobs/<int:job_id>/offers", methods=["POST"])
@blp.auth(*STAFF)
@blp.idempotent
@blp.arguments(schemas.OfferToMemberSchema)
@blp.response(201, schemas.DispatchStateSchema)
@blp.errors(404, 409, 422)
def offer_to_member(data, job_id):
    """Offer an open or offered job to one member you chose, a wave of one.

    The member must be eligible as for any wave (422 on `member_id` lists why not) and never
    offered the job before (409 already-offered). Offers still out stay out; the first member
    to accept wins. An escalated job is no longer escalated; if the offer lapses, dispatch goes
    on. A job past offering is a 409 with `state`.
    """
    outcome = targeted.offer_to_member(actor=current_principal(), job_id=job_id, **data)
    return _state(outcome.job, outcome.offers)


@blp.route("/staff/dispatch-board", methods=["GET"])
@blp.auth(*STAFF)
@blp.arguments(board_schemas.BoardQueryArgsSchema, location="query")
@blp.response(200, board_schemas.BoardPageSchema)
@blp.errors(422)
def dispatch_board(args):
    """The jobs waiting for a member (open or offered), the longest-waiting first, filtered by
    region, category, status, escalation, window start and waves sent; each with its offers
    out and its times to the first offer and to assignment (from the job's events)."""
    return board.board(actor=current_principal(), **args)


@blp.route("/staff/jobs/<int:job_id>/assign", methods=["POST"])
@blp.auth(*STAFF)
@blp.idempotent
@blp.arguments(schemas.AssignSchema)
@blp.response(200, schemas.DispatchStateSchema)
@blp.errors(404, 409)
def assign(data, job_id):
    """Assign a member directly to an open or offered job; pending offers are withdrawn.

    The member must be eligible (422 on `member_id` lists why not) unless `override` is true
    with a `reason`, recorded in the job's history. `window_id` picks the window; by default
    the member is scheduled where they fit. A job past assignment is a 409 with `state`.
    """
    job = assignment.assign_member(actor=current_principal(), job_id=job_id, **data)
    return _state(job, [])


def _state(job, offers) -> dict:
    return {
        "id": job.id,
        "status": job.status,
        "wave": job.wave,
        "assigned_member_id": job.assigned_member_id,
        "scheduled_start": job.scheduled_start,
        "scheduled_end": job.scheduled_end,
        "escalated_at": job.escalated_at,
        "offers": offers,
    }
