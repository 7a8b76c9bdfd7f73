"""Segments of the crowd as SQL: every given key must match (AND), values within a key OR.

Keys: levels (level ranks), skills (skill slugs the member offers), countries, cities
(case-insensitive), postcode_prefixes, programmes (mentor: an opted-in mentor profile;
mentee: a proposed or active mentorship as mentee; top_performer: a valid badge) and statuses
(member statuses, default active only).
"""

from __future__ import annotations

from sqlalchemy import func, or_, select

from crowd.core.db import utcnow
from crowd.core.errors import Unprocessable
from crowd.core.i18n import _
from crowd.extensions import db
from members.models import Member, MemberSkill, Skill
from mentoring.models import MentorProfile, Mentorship, TopPerformerBadge

PROGRAMMES = ("mentor", "mentee", "top_performer")
DEFAULT_STATUSES = ("active",)
PREVIEW_SIZE = 20
# A mentee is in the programme while the mentorship is live.
LIVE_MENTORSHIP = ("proposed", "active")


def check_segment(segment: dict) -> None:
    """422 naming segment.skills when a slug is not in the catalogue (the schema checks the
    rest)."""
    slugs = set(segment.get("skills") or ())
    if not slugs:
        return
    known = set(db.session.scalars(select(Skill.slug).where(Skill.slug.in_(slugs))))
    unknown = sorted(slugs - known)
    if unknown:
        message = f"unknown skills: {', '.join(unknown)}"
        raise Unprocessable(
            _("segment.skills: {message}", message=message),
            errors={"json": {"segment": {"skills": [message]}}},
        )


def _programme_clause(programme: str):
    if programme == "mentor":
        return Member.id.in_(
            select(MentorProfile.member_id).where(MentorProfile.opted_in.is_(True))
        )
    if programme == "mentee":
        return Member.id.in_(
            select(Mentorship.mentee_id).where(Mentorship.status.in_(LIVE_MENTORSHIP))
        )
    return Member.id.in_(
        select(TopPerformerBadge.member_id).where(
            TopPerformerBadge.valid_until > utcnow(), TopPerformerBadge.revoked_at.is_(None)
        )
    )


def segment_clauses(segment: dict) -> list:
    """WHERE clauses on Member selecting the segment's members."""
    clauses = [Member.status.in_(segment.get("statuses") or DEFAULT_STATUSES)]
    if segment.get("levels"):
        clauses.append(Member.level_rank.in_(segment["levels"]))
    if segment.get("countries"):
        clauses.append(Member.country.in_(segment["countries"]))
    if segment.get("cities"):
        clauses.append(func.lower(Member.city).in_([c.lower() for c in segment["cities"]]))
    if segment.get("postcode_prefixes"):
        prefixes = segment["postcode_prefixes"]
        clauses.append(or_(*[Member.postcode.startswith(p, autoescape=True) for p in prefixes]))
    if segment.get("skills"):
        offering = (
            select(MemberSkill.member_id)
            .join(Skill, Skill.id == MemberSkill.skill_id)
            .where(Skill.slug.in_(segment["skills"]))
        )
        clauses.append(Member.id.in_(offering))
    if segment.get("programmes"):
        clauses.append(or_(*[_programme_clause(p) for p in segment["programmes"]]))
    return clauses


def preview(segment: dict) -> dict:
    """How many members the segment holds now, and the first of them by id."""
    clauses = segment_clauses(segment)
    count = db.session.scalar(select(func.count(Member.id)).where(*clauses))
    members = db.session.scalars(
        select(Member).where(*clauses).order_by(Member.id).limit(PREVIEW_SIZE)
    )
    return {"count": count, "members": list(members)}
