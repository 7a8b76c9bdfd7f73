"""HTTP for jobs: customers post jobs, follow them and confirm, cancel or dispute them."""

from crowd.core.auth import STAFF, current_principal
from crowd.core.files.schemas import DownloadSchema
from crowd.core.openapi import CrowdBlueprint
from crowd.core.pagination import PageArgsSchema, page_of
from jobs import posting, queries, service, work
from jobs.schemas.jobs import (
    JobEventSchema,
    JobQueryArgsSchema,
    JobSchema,
    JobSummarySchema,
    ReasonSchema,
)
from jobs.schemas.posting import JobCreateSchema

blp = CrowdBlueprint("jobs_customer", __name__, url_prefix="/api/v1", description="Jobs: customer")

CUSTOMER = "customer"
MEMBER = "member"
JOB = "/jobs/<int:job_id>"


@blp.route("/jobs", methods=["POST"])
@blp.auth(CUSTOMER)
@blp.rate_limited("rate_limit_job_posting")
@blp.idempotent
@blp.arguments(JobCreateSchema)
@blp.response(201, JobSchema)
@blp.errors(404, 422)
def post_job(data):
    """Post a job; it opens and the first offers go out to matching members.

    Pricing is fixed, or hourly with the estimate rate × duration / 60 rounded half up to
    minor units. The currency follows the address's country (EUR in DE and AT, CHF in CH).
    """
    job = posting.post_job(actor=current_principal(), **data)
    return queries.present_job(job, actor=CUSTOMER)


@blp.route("/jobs", methods=["GET"])
@blp.auth(CUSTOMER)
@blp.arguments(JobQueryArgsSchema, location="query")
@blp.response(200, page_of(JobSummarySchema))
def list_jobs(args):
    """Your jobs, least recently changed first; poll with updated_since."""
    return queries.list_own_jobs(actor=current_principal(), **args)


@blp.route(JOB, methods=["GET"])
@blp.auth(CUSTOMER)
@blp.response(200, JobSchema)
@blp.errors(404)
def get_job(job_id):
    """One of your jobs in full, with what you may do to it now (allowed_actions)."""
    return queries.get_job(actor=current_principal(), job_id=job_id)


@blp.route(f"{JOB}/events", methods=["GET"])
@blp.auth(CUSTOMER, *STAFF)
@blp.arguments(PageArgsSchema, location="query")
@blp.response(200, page_of(JobEventSchema))
@blp.errors(404)
def list_events(args, job_id):
    """The job's audit trail, oldest first: every transition, who caused it and why."""
    return queries.list_events(actor=current_principal(), job_id=job_id, **args)


@blp.route(f"{JOB}/work-report/files/<int:file_id>", methods=["GET"])
@blp.auth(CUSTOMER, MEMBER, *STAFF)
@blp.response(200, DownloadSchema)
@blp.errors(404)
def get_work_report_file(job_id, file_id):
    """Short-lived URLs of a photo or the signature of the job's work report (and of its
    thumbnail, null until it is made), for the job's customer, its assigned member and staff;
    anyone else, and a file retention deleted, gets 404."""
    return work.work_report_file(actor=current_principal(), job_id=job_id, file_id=file_id)


@blp.route(f"{JOB}/confirm", methods=["POST"])
@blp.auth(CUSTOMER)
@blp.response(200, JobSchema)
@blp.errors(404, 409)
def confirm_job(job_id):
    """Confirm a completed job (otherwise it confirms itself after the auto-confirm period)."""
    return service.confirm_job(actor=current_principal(), job_id=job_id)


@blp.route(f"{JOB}/cancel", methods=["POST"])
@blp.auth(CUSTOMER)
@blp.arguments(ReasonSchema)
@blp.response(200, JobSchema)
@blp.errors(404, 409, 422)
def cancel_job(data, job_id):
    """Cancel a job: free until a member is assigned; after that, inside the late window
    before the scheduled start, the late-cancellation fee (a share of the price) applies."""
    return service.cancel_job(actor=current_principal(), job_id=job_id, **data)


@blp.route(f"{JOB}/dispute", methods=["POST"])
@blp.auth(CUSTOMER)
@blp.arguments(ReasonSchema)
@blp.response(200, JobSchema)
@blp.errors(404, 409, 422)
def dispute_job(data, job_id):
    """Dispute a completed or confirmed job; support mediates."""
    return service.dispute_job(actor=current_principal(), job_id=job_id, **data)
