"""API contract of the mentor programme: profiles, mentorships, sessions, shadowing."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from crowd.core.fields import Trimmed
from crowd.core.pagination import PageArgsSchema, page_of
from members.models import COUNTRIES
from mentoring.models import MENTORSHIP_STATUSES

LOGGED_KINDS = ("call", "chat", "ride_along")


def _id(**kwargs) -> ma.fields.Integer:
    return ma.fields.Integer(strict=True, validate=validate.Range(min=1, max=2**63 - 1), **kwargs)


def _reason() -> Trimmed:
    return Trimmed(required=True, validate=validate.Length(min=1, max=400))


# --- eligibility and profile ----------------------------------------------------------------


class MentorCriterionSchema(ma.Schema):
    name = ma.fields.String(
        metadata={"description": "status, level, ratings, rating or no_open_dispute"}
    )
    met = ma.fields.Boolean()
    required = ma.fields.String()
    actual = ma.fields.String()


class MentorEligibilitySchema(ma.Schema):
    eligible = ma.fields.Boolean()
    criteria = ma.fields.List(ma.fields.Nested(MentorCriterionSchema))


class MentorProfileUpdateSchema(ma.Schema):
    """Sign up as a mentor, or replace the profile (eligible members only)."""

    capacity = ma.fields.Integer(required=True, strict=True, validate=validate.Range(1, 10))
    skills = ma.fields.List(
        ma.fields.String(validate=validate.Length(min=1, max=60)),
        required=True,
        validate=validate.Length(min=1, max=50),
        metadata={"description": "Skill slugs you coach, each one of your own skills"},
    )
    countries = ma.fields.List(
        ma.fields.String(validate=validate.OneOf(COUNTRIES)),
        required=True,
        validate=validate.Length(min=1, max=len(COUNTRIES)),
    )
    max_distance_km = ma.fields.Integer(required=True, strict=True, validate=validate.Range(1, 500))
    bio = Trimmed(allow_none=True, load_default=None, validate=validate.Length(max=2000))


class MentorAwaySchema(ma.Schema):
    away_until = ma.fields.AwareDateTime(
        required=True,
        allow_none=True,
        metadata={"description": "No new mentees until then; null: back now"},
    )


class MentorProfileSchema(ma.Schema):
    member_id = ma.fields.Integer()
    opted_in = ma.fields.Boolean()
    capacity = ma.fields.Integer()
    skills = ma.fields.List(ma.fields.String())
    countries = ma.fields.List(ma.fields.String())
    max_distance_km = ma.fields.Integer()
    away_until = ma.fields.DateTime(allow_none=True)
    bio = ma.fields.String(allow_none=True)
    current_mentees = ma.fields.Integer(metadata={"description": "proposed + active"})
    spare_capacity = ma.fields.Integer()


# --- mentorships ----------------------------------------------------------------------------


class MentorshipPartySchema(ma.Schema):
    member_id = ma.fields.Integer()
    display_name = ma.fields.String()


class MentorshipSchema(ma.Schema):
    id = ma.fields.Integer()
    status = ma.fields.String(metadata={"description": ", ".join(MENTORSHIP_STATUSES)})
    origin = ma.fields.String(metadata={"description": "system, staff or mentor (a claim)"})
    mentor = ma.fields.Nested(MentorshipPartySchema)
    mentee = ma.fields.Nested(MentorshipPartySchema)
    match_details = ma.fields.Dict(
        metadata={"description": "Why this mentor: score, skill overlap, distance, load"}
    )
    created_at = ma.fields.DateTime()
    accepted_at = ma.fields.DateTime(allow_none=True)
    ended_at = ma.fields.DateTime(allow_none=True)
    end_reason = ma.fields.String(allow_none=True)
    graduated_at = ma.fields.DateTime(allow_none=True)
    graduation_cause = ma.fields.String(
        allow_none=True,
        metadata={"description": "level, record (jobs + tenure) or staff (a community manager)"},
    )
    reward_transaction_id = ma.fields.Integer(allow_none=True)


MentorshipPageSchema = page_of(MentorshipSchema)


class MentorshipCreateSchema(ma.Schema):
    mentee_id = _id(required=True)
    mentor_id = _id(required=True)


class MenteeClaimSchema(ma.Schema):
    mentee_id = _id(required=True)


class MentorshipReasonSchema(ma.Schema):
    reason = _reason()


class MentorshipReassignSchema(ma.Schema):
    mentor_id = _id(required=True, metadata={"description": "The new mentor"})
    reason = _reason()


class MyMentorshipArgsSchema(PageArgsSchema):
    status = ma.fields.String(validate=validate.OneOf(MENTORSHIP_STATUSES))
    role = ma.fields.String(validate=validate.OneOf(("mentor", "mentee")))


class MentorshipArgsSchema(PageArgsSchema):
    status = ma.fields.String(validate=validate.OneOf(MENTORSHIP_STATUSES))
    mentor_id = ma.fields.Integer(validate=validate.Range(min=1, max=2**63 - 1))
    mentee_id = ma.fields.Integer(validate=validate.Range(min=1, max=2**63 - 1))


class UnmatchedMenteeSchema(ma.Schema):
    id = ma.fields.Integer(data_key="member_id")
    display_name = ma.fields.String()
    level_rank = ma.fields.Integer()
    city = ma.fields.String(allow_none=True)
    country = ma.fields.String(allow_none=True)
    status_changed_at = ma.fields.DateTime(metadata={"description": "active since"})


UnmatchedPageSchema = page_of(UnmatchedMenteeSchema)


# --- sessions and shadowing -----------------------------------------------------------------


class SessionCreateSchema(ma.Schema):
    kind = ma.fields.String(required=True, validate=validate.OneOf(LOGGED_KINDS))
    occurred_at = ma.fields.AwareDateTime(required=True)
    duration_minutes = ma.fields.Integer(
        strict=True, allow_none=True, load_default=None, validate=validate.Range(1, 1440)
    )
    mentor_notes = Trimmed(allow_none=True, load_default=None, validate=validate.Length(max=5000))


class FeedbackSchema(ma.Schema):
    feedback = Trimmed(required=True, validate=validate.Length(min=1, max=2000))
    rating = ma.fields.Integer(required=True, strict=True, validate=validate.Range(1, 5))


class SessionSchema(ma.Schema):
    id = ma.fields.Integer()
    mentorship_id = ma.fields.Integer()
    kind = ma.fields.String(metadata={"description": "call, chat, ride_along or shadow"})
    occurred_at = ma.fields.DateTime()
    duration_minutes = ma.fields.Integer(allow_none=True)
    job_id = ma.fields.Integer(allow_none=True, metadata={"description": "the shadowed job"})
    mentor_notes = ma.fields.String(
        allow_none=True, metadata={"description": "for the mentor and staff only (else null)"}
    )
    mentee_feedback = ma.fields.String(allow_none=True)
    mentee_rating = ma.fields.Integer(allow_none=True)
    created_at = ma.fields.DateTime()


class SessionListSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(SessionSchema))


class ShadowCreateSchema(ma.Schema):
    job_id = _id(required=True)


class ShadowSchema(ma.Schema):
    session_id = ma.fields.Integer()
    mentee = ma.fields.Nested(MentorshipPartySchema)
    mentor = ma.fields.Nested(MentorshipPartySchema)
    occurred_at = ma.fields.DateTime()


class ShadowListSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(ShadowSchema))
