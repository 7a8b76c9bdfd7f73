"""A member's mentor profile: eligibility explained, opt-in with capacity, skills and regions,
away mode, opt-out.

Opting in (or changing the profile) needs the member to be eligible now (else 409
"not_eligible" with the unmet criteria). Opting out, or going away for longer than
mentor_away_reassign_days, releases the live mentorships and each mentee gets a new mentor.
Each change locks the member's own row first, so concurrent edits run one after the other.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, func, or_, select

from crowd.core.auth import Principal
from crowd.core.db import utcnow
from crowd.core.errors import NotFound, field_error
from crowd.core.i18n import _
from crowd.core.pagination import paginate
from crowd.extensions import db
from members.access import own_member
from members.models import Member, MemberSkill, Skill
from mentoring.config import programme_rules
from mentoring.errors import NotEligibleToMentor
from mentoring.mentors.common import require_staff
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


AVAILABILITY = ("available", "full", "away")


def list_mentors(
    *, actor: Principal, availability: str | None = None, limit=None, cursor=None
) -> dict:
    """Opted-in mentors for staff, by member id, with their load: capacity, live (proposed +
    active) mentorships, spare places and away mode. `availability`: available (not away,
    spare places), full (not away, none spare) or away."""
    require_staff(actor)
    now = utcnow()
    live = (
        select(func.count(Mentorship.id))
        .where(
            Mentorship.mentor_id == MentorProfile.member_id,
            Mentorship.status.in_(LIVE_STATUSES),
        )
        .scalar_subquery()
    )
    away = MentorProfile.away_until > now
    query = select(MentorProfile).where(MentorProfile.opted_in.is_(True))
    if availability == "away":
        query = query.where(away)
    elif availability in ("available", "full"):
        spare = live < MentorProfile.capacity
        query = query.where(
            or_(MentorProfile.away_until.is_(None), ~away),
            spare if availability == "available" else ~spare,
        )
    page = paginate(query, {"limit": limit, "cursor": cursor}, order=[MentorProfile.member_id])
    ids = [profile.member_id for profile in page["items"]]
    loads = dict(
        db.session.execute(
            select(Mentorship.mentor_id, func.count())
            .where(Mentorship.mentor_id.in_(ids), Mentorship.status.in_(LIVE_STATUSES))
            .group_by(Mentorship.mentor_id)
        ).all()
    )
    names = dict(
        db.session.execute(select(Member.id, Member.display_name).where(Member.id.in_(ids))).all()
    )
    items = []
    for profile in page["items"]:
        current = loads.get(profile.member_id, 0)
        is_away = profile.away_until is not None and profile.away_until > now
        items.append(
            {
                "member_id": profile.member_id,
                "display_name": names.get(profile.member_id),
                "capacity": profile.capacity,
                "current_mentees": current,
                "spare_capacity": max(0, profile.capacity - current),
                "away_until": profile.away_until if is_away else None,
                "availability": "away"
                if is_away
                else ("available" if current < profile.capacity else "full"),
                "countries": profile.countries,
            }
        )
    return {"items": items, "page": page["page"]}
