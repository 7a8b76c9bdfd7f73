"""HTTP for the programmes: mentors, mentorships, sessions and shadowing."""

from crowd.core.auth import STAFF, current_principal
from crowd.core.openapi import CrowdBlueprint
from crowd.core.pagination import PageArgsSchema
from mentoring.mentors import assignment, graduation, lifecycle, profiles, sessions
from mentoring.schemas import mentors as schemas

blp = CrowdBlueprint(
    "mentoring_mentors", __name__, url_prefix="/api/v1", description="Programmes: mentors"
)

MEMBER = "member"
PARTIES_OR_STAFF = (MEMBER, *STAFF)


# --- the mentor's profile -------------------------------------------------------------------


@blp.route("/me/mentor/eligibility", methods=["GET"])
@blp.auth(MEMBER)
@blp.response(200, schemas.MentorEligibilitySchema)
@blp.errors(404)
def get_eligibility():
    """Whether you may mentor: level, rating over enough reviews, active status, no open
    dispute — each criterion with what it needs and where you stand."""
    return profiles.eligibility(actor=current_principal())


@blp.route("/me/mentor", methods=["GET"])
@blp.auth(MEMBER)
@blp.response(200, schemas.MentorProfileSchema)
@blp.errors(404)
def get_mentor_profile():
    """Your mentor profile (404 when you are not signed up as a mentor)."""
    return profiles.get_profile(actor=current_principal())


@blp.route("/me/mentor", methods=["PUT"])
@blp.auth(MEMBER)
@blp.arguments(schemas.MentorProfileUpdateSchema)
@blp.response(200, schemas.MentorProfileSchema)
@blp.errors(404, 409)
def put_mentor_profile(data):
    """Sign up as a mentor or change your profile: capacity (1–10 mentees), the skills you
    coach (your own skills), countries served and distance. Not eligible: 409 `not_eligible`
    with `reasons`."""
    return profiles.opt_in(actor=current_principal(), **data)


@blp.route("/me/mentor", methods=["PATCH"])
@blp.auth(MEMBER)
@blp.arguments(schemas.MentorAwaySchema)
@blp.response(200, schemas.MentorProfileSchema)
@blp.errors(404)
def set_mentor_away(data):
    """Away mode: no new mentees until `away_until` (null: back now). Away for longer than
    the programme's limit (14 days by default): your mentees get new mentors."""
    return profiles.set_away(actor=current_principal(), **data)


@blp.route("/me/mentor", methods=["DELETE"])
@blp.auth(MEMBER)
@blp.response(204)
@blp.errors(404)
def opt_out_as_mentor():
    """Leave the mentor programme; your current mentees get new mentors."""
    profiles.opt_out(actor=current_principal())


# --- mentorships ----------------------------------------------------------------------------


@blp.route("/me/mentorships", methods=["GET"])
@blp.auth(MEMBER)
@blp.arguments(schemas.MyMentorshipArgsSchema, location="query")
@blp.response(200, schemas.MentorshipPageSchema)
@blp.errors(404)
def list_my_mentorships(args):
    """Your mentorships as mentor or mentee (filter `role`, `status`), newest first."""
    return lifecycle.my_mentorships(actor=current_principal(), **args)


@blp.route("/me/mentees", methods=["POST"])
@blp.auth(MEMBER)
@blp.idempotent
@blp.arguments(schemas.MenteeClaimSchema)
@blp.response(201, schemas.MentorshipSchema)
@blp.errors(404, 409)
def claim_mentee(data):
    """Claim an unmatched Starter as their mentor: the mentorship starts active. 409 when the
    member has a mentor already (`has_mentor`), is no Starter, or you cannot take one more."""
    return assignment.claim(actor=current_principal(), **data)


@blp.route("/mentorships", methods=["GET"])
@blp.auth(*STAFF)
@blp.arguments(schemas.MentorshipArgsSchema, location="query")
@blp.response(200, schemas.MentorshipPageSchema)
def list_mentorships(args):
    """Every mentorship, filtered by `status`, `mentor_id`, `mentee_id`; newest first."""
    return lifecycle.list_mentorships(actor=current_principal(), **args)


@blp.route("/mentorships", methods=["POST"])
@blp.auth(*STAFF)
@blp.idempotent
@blp.arguments(schemas.MentorshipCreateSchema)
@blp.response(201, schemas.MentorshipSchema)
@blp.errors(404, 409)
def assign_mentorship(data):
    """Pair a Starter with a mentor (proposed; the mentor accepts). 409 when the mentor is not
    opted in, away, not eligible or full, or the member has a mentor or is no Starter."""
    return assignment.staff_assign(actor=current_principal(), **data)


@blp.route("/mentorships/unmatched", methods=["GET"])
@blp.auth(*STAFF)
@blp.arguments(PageArgsSchema, location="query")
@blp.response(200, schemas.UnmatchedPageSchema)
def list_unmatched(args):
    """Starters without a mentor (nobody fitted automatically, or their mentorship ended)."""
    return assignment.unmatched(actor=current_principal(), **args)


@blp.route("/mentorships/<int:mentorship_id>", methods=["GET"])
@blp.auth(*PARTIES_OR_STAFF)
@blp.response(200, schemas.MentorshipSchema)
@blp.errors(404)
def get_mentorship(mentorship_id):
    """One mentorship: for its mentor, its mentee and staff."""
    return lifecycle.get_mentorship(actor=current_principal(), mentorship_id=mentorship_id)


@blp.route("/mentorships/<int:mentorship_id>/accept", methods=["POST"])
@blp.auth(MEMBER)
@blp.response(200, schemas.MentorshipSchema)
@blp.errors(404, 409)
def accept_mentorship(mentorship_id):
    """The mentor accepts a proposed mentorship: it becomes active."""
    return lifecycle.accept(actor=current_principal(), mentorship_id=mentorship_id)


@blp.route("/mentorships/<int:mentorship_id>/decline", methods=["POST"])
@blp.auth(MEMBER)
@blp.arguments(schemas.MentorshipReasonSchema)
@blp.response(200, schemas.MentorshipSchema)
@blp.errors(404, 409)
def decline_mentorship(data, mentorship_id):
    """The mentor declines a proposed mentorship; the mentee is matched with someone else."""
    return lifecycle.decline(actor=current_principal(), mentorship_id=mentorship_id, **data)


@blp.route("/mentorships/<int:mentorship_id>/end", methods=["POST"])
@blp.auth(*PARTIES_OR_STAFF)
@blp.arguments(schemas.MentorshipReasonSchema)
@blp.response(200, schemas.MentorshipSchema)
@blp.errors(404, 409)
def end_mentorship(data, mentorship_id):
    """End a mentorship with a reason (mentor, mentee or staff). When the mentor ends it,
    the mentee is matched again; otherwise they wait for a community manager."""
    return lifecycle.end(actor=current_principal(), mentorship_id=mentorship_id, **data)


@blp.route("/mentorships/<int:mentorship_id>/reassign", methods=["POST"])
@blp.auth(*STAFF)
@blp.arguments(schemas.MentorshipReassignSchema)
@blp.response(201, schemas.MentorshipSchema)
@blp.errors(404, 409)
def reassign_mentorship(data, mentorship_id):
    """Give the mentee another mentor: this mentorship ends (by staff, with the reason) and a
    new one is proposed to `mentor_id` — both or neither (409 as for POST /mentorships, and
    nothing ends). The current mentor: 422. Returns the new mentorship."""
    return assignment.reassign(actor=current_principal(), mentorship_id=mentorship_id, **data)


@blp.route("/mentorships/<int:mentorship_id>/graduate", methods=["POST"])
@blp.auth(*STAFF)
@blp.response(200, schemas.MentorshipSchema)
@blp.errors(404, 409)
def graduate_mentorship(mentorship_id):
    """A community manager graduates the mentee of an active mentorship (graduation_cause
    `staff`); the mentor is credited the reward as for an automatic graduation. Not active:
    409 with `state`."""
    return graduation.graduate(actor=current_principal(), mentorship_id=mentorship_id)


# --- sessions and shadowing -----------------------------------------------------------------


@blp.route("/mentorships/<int:mentorship_id>/sessions", methods=["POST"])
@blp.auth(*PARTIES_OR_STAFF)
@blp.idempotent
@blp.arguments(schemas.SessionCreateSchema)
@blp.response(201, schemas.SessionSchema)
@blp.errors(404, 409)
def log_session(data, mentorship_id):
    """The mentor (or staff on the mentor's behalf) logs a call, chat or ride-along that took
    place (not in the future) on an active mentorship, with private notes (seen by the mentor
    and staff only); the mentee: 403."""
    return sessions.log_session(actor=current_principal(), mentorship_id=mentorship_id, **data)


@blp.route("/mentorships/<int:mentorship_id>/sessions", methods=["GET"])
@blp.auth(*PARTIES_OR_STAFF)
@blp.response(200, schemas.SessionListSchema)
@blp.errors(404)
def list_sessions(mentorship_id):
    """A mentorship's sessions, newest first; the mentee sees no mentor notes."""
    return sessions.list_sessions(actor=current_principal(), mentorship_id=mentorship_id)


@blp.route("/mentorships/<int:mentorship_id>/sessions/<int:session_id>/feedback", methods=["POST"])
@blp.auth(MEMBER)
@blp.arguments(schemas.FeedbackSchema)
@blp.response(200, schemas.SessionSchema)
@blp.errors(404, 409)
def give_feedback(data, mentorship_id, session_id):
    """The mentee's feedback and rating (1–5) on a session, once (again: 409); the mentor
    may read the session but not rate it (403)."""
    return sessions.give_feedback(
        actor=current_principal(), mentorship_id=mentorship_id, session_id=session_id, **data
    )


@blp.route("/mentorships/<int:mentorship_id>/shadow", methods=["POST"])
@blp.auth(*PARTIES_OR_STAFF)
@blp.idempotent
@blp.arguments(schemas.ShadowCreateSchema)
@blp.response(201, schemas.SessionSchema)
@blp.errors(404, 409)
def shadow_job(data, mentorship_id):
    """The mentor (or staff on the mentor's behalf) takes the mentee along on one of the
    mentor's own jobs (assigned or in progress); the job's customer is told and sees who
    shadows."""
    return sessions.shadow(actor=current_principal(), mentorship_id=mentorship_id, **data)


@blp.route("/jobs/<int:job_id>/shadows", methods=["GET"])
@blp.auth("customer", MEMBER, *STAFF)
@blp.response(200, schemas.ShadowListSchema)
@blp.errors(404)
def list_job_shadows(job_id):
    """Who shadows this job: for its customer, its member, the shadowing mentees and staff."""
    return sessions.job_shadows(actor=current_principal(), job_id=job_id)
