"""HTTP for jobs: double-blind reviews of a job's two parties, and a member's public reviews."""

from crowd.core.auth import STAFF, current_principal
from crowd.core.openapi import CrowdBlueprint
from crowd.core.pagination import PageArgsSchema
from jobs import reviews as service
from jobs.schemas import reviews as schemas

blp = CrowdBlueprint("jobs_reviews", __name__, url_prefix="/api/v1", description="Jobs: reviews")

PARTIES = ("customer", "member")


@blp.route("/jobs/<int:job_id>/reviews", methods=["POST"])
@blp.auth(*PARTIES)
@blp.idempotent
@blp.arguments(schemas.ReviewCreateSchema)
@blp.response(201, schemas.ReviewSchema)
@blp.errors(404, 409)
def create_review(data, job_id):
    """Rate the other party of a completed, confirmed or closed job, once.

    The job's customer rates its member; the member rates the customer. The review stays
    hidden from the other side (`published_at` null) until both have reviewed — then both
    publish at once — or until the blind period (7 days by default) after completion ends.
    A job not finished yet is a 409 with its `state`; a second review by the same side, 409.
    """
    return service.submit_review(actor=current_principal(), job_id=job_id, **data)


@blp.route("/jobs/<int:job_id>/reviews", methods=["GET"])
@blp.auth(*PARTIES, *STAFF)
@blp.response(200, schemas.JobReviewsSchema)
@blp.errors(404)
def list_job_reviews(job_id):
    """A job's reviews: yours always, the other side's once published; staff see all."""
    return service.job_reviews(actor=current_principal(), job_id=job_id)


@blp.route("/members/<int:member_id>/reviews", methods=["GET"])
@blp.auth()
@blp.arguments(PageArgsSchema, location="query")
@blp.response(200, schemas.PublicReviewPageSchema)
@blp.errors(404)
def list_member_reviews(args, member_id):
    """Published reviews of an active or paused member by their customers, newest first (any
    other id is 404, as for no member; staff and the member themself see any)."""
    return service.member_reviews(actor=current_principal(), member_id=member_id, **args)
