"""HTTP for jobs: the member (mobile) API — offers, accepting and declining, doing the work."""

from functools import wraps

from flask import request

from crowd.core.auth import current_principal
from crowd.core.openapi import CrowdBlueprint
from jobs import assignment, polling, work
from jobs.schemas import offers as offer_schemas
from jobs.schemas import work as work_schemas

blp = CrowdBlueprint("jobs_member", __name__, url_prefix="/api/v1", description="Jobs: member")

MEMBER = "member"
ETAG_HEADER = {
    "ETag": {"description": "Send it back as If-None-Match", "schema": {"type": "string"}}
}


# --- offers --------------------------------------------------------------------------------


def unless_unchanged(view):
    """304 before the query is even parsed when If-None-Match holds the list's ETag (an ETag
    is only ever issued for a query that parsed); else the view, with the stamp read."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        member_id = current_principal().require_member_id()
        unchanged = polling.not_modified(
            member_id=member_id,
            stamp=polling.current_stamp(member_id),
            query=request.query_string,
            if_none_match=request.headers.get("If-None-Match"),
        )
        return unchanged if unchanged is not None else view(*args, **kwargs)

    return wrapper


@blp.route("/me/offers", methods=["GET"])
@blp.auth(MEMBER)
@unless_unchanged
@blp.arguments(offer_schemas.OfferQueryArgsSchema, location="query")
@blp.response(200, offer_schemas.MemberOfferPageSchema, headers=ETAG_HEADER)
@blp.alt_response(304, description="Not Modified: your If-None-Match is the list's ETag")
@blp.errors(404)
def list_offers(args):
    """Your offers, oldest change first: by default the ones you can still answer.

    Poll with `updated_since` (and no `status`) to learn of new, withdrawn and expired offers.
    The job shows its city, postcode and distance; the street and the customer appear once
    the job is yours.

    Send the `ETag` of your last answer as `If-None-Match`: while the list is unchanged the
    answer is `304 Not Modified`, with no body.
    """
    actor = current_principal()
    member_id = actor.require_member_id()
    # Read before the list (unless_unchanged read it already: this request keeps it).
    stamp = polling.current_stamp(member_id)
    page = work.list_my_offers(actor=actor, **args)
    tag = polling.etag(
        member_id=member_id, stamp=stamp, query=request.query_string, args=args, page=page
    )
    return page, ({"ETag": tag} if tag else {})


@blp.route("/offers/<int:offer_id>/accept", methods=["POST"])
@blp.auth(MEMBER)
@blp.rate_limited("rate_limit_offer_accept")
@blp.idempotent
@blp.response(200, work_schemas.MemberJobSchema)
@blp.errors(404, 409)
def accept_offer(offer_id):
    """Accept your pending offer: the first member to accept gets the job.

    409 (with `state`) when the offer is no longer pending (withdrawn because another member
    was faster, expired, declined), or you can no longer take the job (e.g. booked meanwhile).
    """
    job = assignment.accept_offer(actor=current_principal(), offer_id=offer_id)
    return work.get_my_job(actor=current_principal(), job_id=job.id)


@blp.route("/offers/<int:offer_id>/decline", methods=["POST"])
@blp.auth(MEMBER)
@blp.idempotent
@blp.arguments(offer_schemas.DeclineSchema)
@blp.response(200, offer_schemas.MemberOfferSchema)
@blp.errors(404, 409)
def decline_offer(data, offer_id):
    """Decline your pending offer with a reason; you will not be offered this job again.

    Reasons: too_far, not_available, price_too_low, lacks_skill, other (plus an optional note).
    """
    offer = assignment.decline_offer(actor=current_principal(), offer_id=offer_id, **data)
    return work.get_my_offer(actor=current_principal(), offer_id=offer.id)


# --- jobs ----------------------------------------------------------------------------------


@blp.route("/me/jobs", methods=["GET"])
@blp.auth(MEMBER)
@blp.arguments(work_schemas.MemberJobQueryArgsSchema, location="query")
@blp.response(200, work_schemas.MemberJobPageSchema)
@blp.errors(404)
def list_jobs(args):
    """Your jobs, oldest change first: upcoming, active or past (`scope`); poll with
    `updated_since`."""
    return work.list_my_jobs(actor=current_principal(), **args)


@blp.route("/me/jobs/<int:job_id>", methods=["GET"])
@blp.auth(MEMBER)
@blp.response(200, work_schemas.MemberJobSchema)
@blp.errors(404)
def get_job(job_id):
    """One of your jobs in full: address, customer's first name, windows, work report."""
    return work.get_my_job(actor=current_principal(), job_id=job_id)


@blp.route("/me/jobs/<int:job_id>/start", methods=["POST"])
@blp.auth(MEMBER)
@blp.response(200, work_schemas.MemberJobSchema)
@blp.errors(404, 409)
def start_job(job_id):
    """Check in on site and start the work (assigned → in progress); else 409 with `state`.

    Check-in opens JOBS_CHECK_IN_OPENS_MINUTES (default 60) before the booked window;
    earlier is a 409 `check-in-not-open` whose `opens_at` says when it opens.
    """
    return work.start_job(actor=current_principal(), job_id=job_id)


@blp.route("/me/jobs/<int:job_id>/complete", methods=["POST"])
@blp.auth(MEMBER)
@blp.idempotent
@blp.arguments(work_schemas.WorkReportSchema)
@blp.response(200, work_schemas.MemberJobSchema)
@blp.errors(404, 409, 422)
def complete_job(data, job_id):
    """Finish the work with its report (notes, minutes spent, parts, photos, signature).

    In progress → completed; the customer confirms next (or it confirms itself after the
    configured period). `photo_file_ids` (up to 10) and `signature_file_id` are your ready
    uploads of purpose `work_photo` and `signature` (POST /files, PUT, confirm), each attached
    to one report only: a file that is not yours, not confirmed, of another purpose or attached
    already is a 422 naming the field. `photo_refs` is deprecated.
    """
    return work.complete_job(actor=current_principal(), job_id=job_id, **data)


@blp.route("/me/jobs/<int:job_id>/cancel", methods=["POST"])
@blp.auth(MEMBER)
@blp.idempotent
@blp.arguments(work_schemas.MemberCancelSchema)
@blp.response(200, work_schemas.WithdrawalSchema)
@blp.errors(404, 409)
def cancel_job(data, job_id):
    """Back out of an assigned job, with a reason: it goes back to matching (without you)
    and counts against your record. Once started, only a community manager can cancel."""
    return work.cancel_job(actor=current_principal(), job_id=job_id, **data)
