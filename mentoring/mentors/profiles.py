"""A member's mentor profile: eligibility explained, opt-in with capacity, skills and regions,
away mode, opt-out.

Opting in (or changing the profile) needs the member to be eligible now (else 409
"not_eligible" with the unmet criteria). Opting out, or going away for longer than
mentor_away_reassign_days, releases the live mentorships and each mentee gets a new mentor.
Each change locks the member's own row first, so concurrent edits run one after the other.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, func, select

from crowd.core.auth import Principal
from crowd.core.db import utcnow
from crowd.core.errors import NotFound, field_error
from crowd.core.i18n import _
from crowd.extensions import db
from members.access import own_member
from members.models import Member, MemberSkill, Skill
from mentoring.config import programme_rules
from mentoring.errors import NotEligibleToMentor
from mentoring.mentors.eligibility import explain
from mentoring.mentors.lifecycle import release_mentees
from mentoring.models import MentorProfile, Mentorship, MentorSkill
from mentoring.programmes import LIVE_STATUSES


def eligibility(*, actor: Principal) -> dict:
    """Whether the member may mentor, criterion by criterion."""
    criteria = explain(own_member(actor))
    return {"eligible": all(c.met for c in criteria), "criteria": criteria}


def present(profile: MentorProfile) -> dict:
    skills = db.session.scalars(
        select(Skill.slug)
        .join(MentorSkill, MentorSkill.skill_id == Skill.id)
        .where(MentorSkill.member_id == profile.member_id)
        .order_by(Skill.slug)
    ).all()
    live = db.session.scalar(
        select(func.count(Mentorship.id)).where(
            Mentorship.mentor_id == profile.member_id, Mentorship.status.in_(LIVE_STATUSES)
        )
    )
    return {
        "member_id": profile.member_id,
        "opted_in": profile.opted_in,
        "capacity": profile.capacity,
        "skills": list(skills),
        "countries": profile.countries,
        "max_distance_km": profile.max_distance_km,
        "away_until": profile.away_until,
        "bio": profile.bio,
        "current_mentees": live,
        "spare_capacity": max(0, profile.capacity - live),
    }


def _profile(member: Member) -> MentorProfile:
    profile = db.session.get(MentorProfile, member.id, populate_existing=True)
    if profile is None or not profile.opted_in:
        raise NotFound(_("You are not signed up as a mentor."))
    return profile


def get_profile(*, actor: Principal) -> dict:
    return present(_profile(own_member(actor)))


def _skill_ids(member: Member, slugs: list[str]) -> list[int]:
    """The ids of `slugs`, each one the member holds (else 422 naming `skills`)."""
    held = dict(
        db.session.execute(
            select(Skill.slug, Skill.id)
            .join(MemberSkill, MemberSkill.skill_id == Skill.id)
            .where(MemberSkill.member_id == member.id)
        ).all()
    )
    unknown = sorted(set(slugs) - set(held))
    if unknown:
        raise field_error("skills", _("not among your skills: {value}", value=", ".join(unknown)))
    return sorted({held[slug] for slug in slugs})


def opt_in(
    *,
    actor: Principal,
    capacity: int,
    skills: list[str],
    countries: list[str],
    max_distance_km: int,
    bio: str | None = None,
) -> dict:
    """Sign up as a mentor, or change the profile (eligible members only)."""
    member = own_member(actor, lock=True)
    criteria = explain(member)
    unmet = [c.name for c in criteria if not c.met]
    if unmet:
        raise NotEligibleToMentor(
            _("You cannot mentor yet: {value}.", value=", ".join(unmet)),
            state="not_eligible",
            reasons=unmet,
        )
    skill_ids = _skill_ids(member, skills)
    profile = db.session.get(MentorProfile, member.id, populate_existing=True)
    if profile is None:
        profile = MentorProfile(member_id=member.id)
        db.session.add(profile)
    profile.opted_in, profile.capacity = True, capacity
    profile.countries, profile.max_distance_km = sorted(set(countries)), max_distance_km
    profile.bio = bio
    db.session.flush()
    db.session.execute(delete(MentorSkill).where(MentorSkill.member_id == member.id))
    db.session.add_all(MentorSkill(member_id=member.id, skill_id=sid) for sid in skill_ids)
    db.session.flush()
    return present(profile)


def set_away(*, actor: Principal, away_until: datetime | None) -> dict:
    """Away mode: no new mentees until `away_until` (null: back now). Away for longer than
    mentor_away_reassign_days: the current mentees get new mentors at once."""
    member = own_member(actor, lock=True)
    profile = _profile(member)
    now = utcnow()
    if away_until is not None and away_until <= now:
        raise field_error("away_until", _("must be in the future (or null to come back)"))
    profile.away_until = away_until
    db.session.flush()
    horizon = now + timedelta(days=programme_rules().mentor_away_reassign_days)
    if away_until is not None and away_until > horizon:
        release_mentees(member.id, reason="The mentor is away for a long time")
    return present(profile)


def opt_out(*, actor: Principal) -> None:
    """Stop mentoring: the profile stays (opted out), current mentees get new mentors."""
    member = own_member(actor, lock=True)
    profile = _profile(member)
    profile.opted_in = False
    db.session.flush()
    release_mentees(member.id, reason="The mentor left the programme")
