"""HTTP for jobs: staff dispatch actions — send a wave now, assign a member directly."""

from crowd.core.auth import STAFF, current_principal
from crowd.core.openapi import CrowdBlueprint
from jobs import assignment, dispatch
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
