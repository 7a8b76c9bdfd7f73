"""HTTP for jobs: community managers and admins look at every job and act for customers."""

from crowd.core.auth import STAFF, current_principal
from crowd.core.openapi import CrowdBlueprint
from crowd.core.pagination import page_of
from jobs import queries, service
from jobs.schemas.jobs import (
    ReasonSchema,
    StaffJobQueryArgsSchema,
    StaffJobSchema,
    StaffJobSummarySchema,
)

blp = CrowdBlueprint("jobs_staff", __name__, url_prefix="/api/v1", description="Jobs: staff")

JOB = "/staff/jobs/<int:job_id>"


@blp.route("/staff/jobs", methods=["GET"])
@blp.auth(*STAFF)
@blp.arguments(StaffJobQueryArgsSchema, location="query")
@blp.response(200, page_of(StaffJobSummarySchema))
def list_jobs(args):
    """All jobs, least recently changed first, filtered (escalated=true: waiting for you)."""
    return queries.list_jobs_for_staff(actor=current_principal(), **args)


@blp.route(JOB, methods=["GET"])
@blp.auth(*STAFF)
@blp.response(200, StaffJobSchema)
@blp.errors(404)
def get_job(job_id):
    """A job in full with its customer, escalation and every offer made for it."""
    return queries.get_job(actor=current_principal(), job_id=job_id)


@blp.route(f"{JOB}/cancel", methods=["POST"])
@blp.auth(*STAFF)
@blp.arguments(ReasonSchema)
@blp.response(200, StaffJobSchema)
@blp.errors(404, 409, 422)
def cancel_job(data, job_id):
    """Cancel a job up to when the work is in progress; no fee is charged for it."""
    return service.cancel_job(actor=current_principal(), job_id=job_id, **data)


@blp.route(f"{JOB}/confirm", methods=["POST"])
@blp.auth(*STAFF)
@blp.response(200, StaffJobSchema)
@blp.errors(404, 409)
def confirm_job(job_id):
    """Confirm a completed job on the customer's behalf."""
    return service.confirm_job(actor=current_principal(), job_id=job_id)
