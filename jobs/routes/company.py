"""HTTP for jobs: a provider company's dispatcher — its offers and jobs, accepting an offer for
the company and assigning one of its technicians, giving a job to another. Owners and
dispatchers only (a technician gets 403; a member of no company 404)."""

from crowd.core.auth import current_principal
from crowd.core.openapi import CrowdBlueprint
from jobs import company
from jobs.schemas import company as schemas

blp = CrowdBlueprint(
    "jobs_company",
    __name__,
    url_prefix="/api/v1/me/organisation",
    description="Jobs: a provider company's dispatcher",
)


@blp.route("/offers", methods=["GET"])
@blp.auth("member")
@blp.arguments(schemas.CompanyOfferQueryArgsSchema, location="query")
@blp.response(200, schemas.CompanyOfferPageSchema)
@blp.errors(404)
def list_company_offers(args):
    """The pending offers sent to your company's members, with whom each went to: accept one
    for the company and assign a technician (POST …/offers/{offer_id}/accept)."""
    return company.list_offers(actor=current_principal(), **args)


@blp.route("/offers/<int:offer_id>/accept", methods=["POST"])
@blp.auth("member")
@blp.idempotent
@blp.arguments(schemas.CompanyAcceptSchema)
@blp.response(200, schemas.CompanyAssignmentSchema)
@blp.errors(404, 409, 422)
def accept_company_offer(data, offer_id):
    """Accept an offer sent to a member of your company and give the job to
    `technician_member_id`: the addressee or another active member of the company, eligible
    for the job (else 422 naming the field). The first accept wins, whoever's: 409 (with
    `state`) when the job is taken or the offer no longer pending; 404 for an offer not sent
    to your company."""
    return company.accept_for_company(actor=current_principal(), offer_id=offer_id, **data)


@blp.route("/jobs", methods=["GET"])
@blp.auth("member")
@blp.arguments(schemas.CompanyJobQueryArgsSchema, location="query")
@blp.response(200, schemas.CompanyJobPageSchema)
@blp.errors(404)
def list_company_jobs(args):
    """Your company's jobs (done or being done by its technicians for it), by status; poll
    with `updated_since`."""
    return company.list_jobs(actor=current_principal(), **args)


@blp.route("/jobs/<int:job_id>/reassign", methods=["POST"])
@blp.auth("member")
@blp.idempotent
@blp.arguments(schemas.CompanyReassignSchema)
@blp.response(200, schemas.CompanyAssignmentSchema)
@blp.errors(404, 409, 422)
def reassign_company_job(data, job_id):
    """Give your company's assigned job, not yet started, to another technician of the company,
    eligible for it (else 422 naming the field); it is scheduled where they fit, and both
    technicians and the customer are told. 409 (with `state`) once the job started."""
    return company.reassign_for_company(actor=current_principal(), job_id=job_id, **data)
