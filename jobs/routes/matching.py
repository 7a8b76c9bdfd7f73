"""HTTP for jobs: matching views — ranked candidates and eligibility explained, for staff."""

from crowd.core.auth import STAFF, current_principal
from crowd.core.openapi import CrowdBlueprint
from jobs.matching import service
from jobs.schemas import matching as schemas

blp = CrowdBlueprint("jobs_matching", __name__, url_prefix="/api/v1", description="Jobs: matching")


@blp.route("/jobs/<int:job_id>/candidates", methods=["GET"])
@blp.auth(*STAFF)
@blp.arguments(schemas.CandidateQueryArgsSchema, location="query")
@blp.response(200, schemas.CandidateListSchema)
@blp.errors(404)
def list_candidates(args, job_id):
    """The eligible members for a job, best first, each score broken down by weighted component."""
    return service.list_candidates(actor=current_principal(), job_id=job_id, **args)


@blp.route("/jobs/<int:job_id>/candidates/ineligible", methods=["GET"])
@blp.auth(*STAFF)
@blp.arguments(schemas.IneligibleQueryArgsSchema, location="query")
@blp.response(200, schemas.IneligibleListSchema)
@blp.errors(404)
def list_ineligible(args, job_id):
    """Near misses: members of the job's country holding its skills, whose service area comes
    within 50 km of it, who may not take it — nearest first, each with every requirement they
    fail (as /candidates/{member_id}/eligibility)."""
    return service.list_ineligible(actor=current_principal(), job_id=job_id, **args)


@blp.route("/jobs/<int:job_id>/candidates/<int:member_id>/eligibility", methods=["GET"])
@blp.auth(*STAFF)
@blp.response(200, schemas.EligibilitySchema)
@blp.errors(404)
def explain_eligibility(job_id, member_id):
    """Whether a member may take the job and, if not, every requirement they fail."""
    return service.explain_eligibility(
        actor=current_principal(), job_id=job_id, member_id=member_id
    )
