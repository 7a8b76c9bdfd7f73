"""Matching mentees with mentors: automatically, by a community manager, or by a mentor's claim.

A mentee is a member who still "needs a mentor": active, ranked (level ≥ 1) below the
graduation level, never graduated from a mentorship. One live (proposed or active) mentorship
per mentee: the partial unique index uq_mentorships_live_mentee holds it in the database, and
every path locks the mentee's member row first, so a second claim waits and gets a 409.

Automatic assignment (task mentoring.assign_mentor): the candidates come from ONE query —
eligible (mentoring.mentors.eligibility), opted in, not away, with spare capacity (proposed +
active mentorships < capacity), sharing ≥ 1 skill with the mentee; none the mentee had before.
Country served and distance (haversine against the mentor's max_distance_km) are checked in
Python on the rows. Score (0..1):

    0.4 × skill Jaccard + 0.3 × (1 − km / max_distance_km) + 0.2 × spare capacity share
    + 0.1 × 1 / (1 + current mentees)

best first, ties by the lower member id. The winner's profile row is locked and its spare
capacity checked again (a concurrent assignment may have filled it); a full one is skipped.
The mentorship is `proposed` (origin system, match_details = the figures) and both are told.
No candidate: the mentee stays unmatched and shows in GET /mentorships/unmatched.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import and_, exists, func, or_, select

from crowd.core.auth import Principal
from crowd.core.db import utcnow
from crowd.core.errors import NotFound, field_error
from crowd.core.i18n import _, _l
from crowd.core.pagination import paginate
from crowd.extensions import db
from jobs.matching.facts import haversine_km
from members.access import lock_member, visible_member
from members.models import Member, MemberSkill, MemberStats
from mentoring.config import programme_rules
from mentoring.errors import AlreadyGraduated, HasMentor, MentorUnavailable, NotAStarter
from mentoring.mentors.common import (
    display_names,
    present_mentorship,
    require_staff,
)
from mentoring.mentors.eligibility import eligible_condition, eligible_member_ids
from mentoring.mentors.lifecycle import end, mentorship_for
from mentoring.models import MentorProfile, Mentorship, MentorSkill
from mentoring.programmes import LIVE_STATUSES
from notifications.service import notify

WEIGHTS = {"skills": 0.4, "distance": 0.3, "spare": 0.2, "load": 0.1}


@dataclass(frozen=True)
class Candidate:
    member_id: int
    score: float
    details: dict


def _live_count(mentor_id_column):
    return (
        select(func.count(Mentorship.id))
        .where(Mentorship.mentor_id == mentor_id_column, Mentorship.status.in_(LIVE_STATUSES))
        .scalar_subquery()
    )


def _skill_counts(mentee_id: int):
    mentee_skills = select(MemberSkill.skill_id).where(MemberSkill.member_id == mentee_id)
    overlap = (
        select(func.count())
        .select_from(MentorSkill)
        .where(
            MentorSkill.member_id == MentorProfile.member_id,
            MentorSkill.skill_id.in_(mentee_skills),
        )
        .scalar_subquery()
    )
    coached = (
        select(func.count())
        .select_from(MentorSkill)
        .where(MentorSkill.member_id == MentorProfile.member_id)
        .scalar_subquery()
    )
    return overlap, coached


def not_away(now):
    return or_(MentorProfile.away_until.is_(None), MentorProfile.away_until <= now)


def _figures(mentee: Member, row, mentee_skills: int) -> dict | None:
    """The match figures of one mentor row, or None when they do not serve the mentee."""
    if mentee.country not in (row.countries or []):
        return None
    if None in (mentee.lat, mentee.lon, row.lat, row.lon):
        return None
    km = haversine_km(mentee.lat, mentee.lon, row.lat, row.lon)
    if km > row.max_distance_km:
        return None
    jaccard = row.overlap / max(1, row.coached + mentee_skills - row.overlap)
    spare = row.capacity - row.live
    parts = {
        "skills": jaccard,
        "distance": 1 - km / row.max_distance_km,
        "spare": spare / row.capacity,
        "load": 1 / (1 + row.live),
    }
    return {
        "score": round(sum(WEIGHTS[name] * value for name, value in parts.items()), 6),
        "skill_overlap": row.overlap,
        "skill_jaccard": round(jaccard, 4),
        "distance_km": round(km, 1),
        "capacity": row.capacity,
        "spare_capacity": spare,
        "current_mentees": row.live,
    }


def _candidate_rows(mentee: Member, *, exclude: set[int], now):
    overlap, coached = _skill_counts(mentee.id)
    live = _live_count(MentorProfile.member_id)
    query = (
        select(
            MentorProfile.member_id,
            MentorProfile.capacity,
            MentorProfile.countries,
            MentorProfile.max_distance_km,
            Member.lat,
            Member.lon,
            live.label("live"),
            overlap.label("overlap"),
            coached.label("coached"),
        )
        .join(Member, Member.id == MentorProfile.member_id)
        .outerjoin(MemberStats, MemberStats.member_id == Member.id)
        .where(
            MentorProfile.opted_in.is_(True),
            not_away(now),
            eligible_condition(),
            live < MentorProfile.capacity,
            overlap >= 1,
            MentorProfile.member_id != mentee.id,
        )
    )
    if exclude:
        query = query.where(MentorProfile.member_id.not_in(exclude))
    return db.session.execute(query).all()


def candidates(mentee: Member, *, exclude: set[int] | None = None) -> list[Candidate]:
    """The mentors who could take `mentee`, best first (one query, then Python on the rows)."""
    now = utcnow()
    mentee_skills = db.session.scalar(
        select(func.count()).select_from(MemberSkill).where(MemberSkill.member_id == mentee.id)
    )
    found = []
    for row in _candidate_rows(mentee, exclude=exclude or set(), now=now):
        details = _figures(mentee, row, mentee_skills)
        if details is not None:
            found.append(Candidate(row.member_id, details["score"], details))
    return sorted(found, key=lambda c: (-c.score, c.member_id))


# --- who needs a mentor ---------------------------------------------------------------------


def _needs_mentor_condition():
    graduated_or_live = exists().where(
        Mentorship.mentee_id == Member.id,
        Mentorship.status.in_((*LIVE_STATUSES, "graduated")),
    )
    return and_(
        Member.status == "active",
        Member.level_rank >= 1,
        Member.level_rank < programme_rules().graduation_level,
        ~graduated_or_live,
    )


def _check_mentee(mentee: Member | None) -> Member:
    if mentee is None:
        raise NotFound(_("No such crowd member."))
    live = db.session.scalar(
        select(Mentorship.status).where(
            Mentorship.mentee_id == mentee.id,
            Mentorship.status.in_((*LIVE_STATUSES, "graduated")),
        )
    )
    if live == "graduated":
        raise AlreadyGraduated(
            _("This member graduated from a mentorship already."), state="graduated"
        )
    if live is not None:
        raise HasMentor(_("This member has a mentor already."), state="has_mentor")
    rank_ok = 1 <= mentee.level_rank < programme_rules().graduation_level
    if mentee.status != "active" or not rank_ok:
        raise NotAStarter(_("Only active Starters get a mentor."), state="not_a_starter")
    return mentee


def _locked_profile(mentor_id: int) -> MentorProfile | None:
    return db.session.scalar(
        select(MentorProfile)
        .where(MentorProfile.member_id == mentor_id)
        .with_for_update(key_share=True)
        .execution_options(populate_existing=True)
    )


def _live_of(mentor_id: int) -> int:
    query = select(func.count(Mentorship.id)).where(
        Mentorship.mentor_id == mentor_id, Mentorship.status.in_(LIVE_STATUSES)
    )
    return db.session.scalar(query)


def _check_mentor(mentor_id: int) -> MentorProfile:
    """The mentor's profile, locked, if they can take one more mentee now; else 409."""
    profile = _locked_profile(mentor_id)
    if profile is None or not profile.opted_in:
        raise MentorUnavailable(_("This member is not an opted-in mentor."), state="not_a_mentor")
    if profile.away_until is not None and profile.away_until > utcnow():
        raise MentorUnavailable(_("This mentor is away."), state="away")
    if mentor_id not in eligible_member_ids([mentor_id]):
        raise MentorUnavailable(_("This mentor is no longer eligible."), state="not_eligible")
    if _live_of(mentor_id) >= profile.capacity:
        raise MentorUnavailable(_("This mentor has no spare capacity."), state="full")
    return profile


def _create(mentee: Member, mentor_id: int, *, origin: str, details: dict, by=None, **cols):
    mentorship = Mentorship(
        mentor_id=mentor_id,
        mentee_id=mentee.id,
        origin=origin,
        match_details=details,
        created_by_id=by,
        **cols,
    )
    db.session.add(mentorship)
    db.session.flush()
    names = display_names([mentor_id, mentee.id])
    mentor_name, mentor_user = names[mentor_id]
    mentee_name, mentee_user = names[mentee.id]
    pending = mentorship.status == "proposed"
    notify(
        mentor_user,
        "mentoring.mentee_proposed" if pending else "mentoring.mentee_assigned",
        _l("A new mentee: {mentee_name}", mentee_name=mentee_name),
        _l("Please accept or decline the mentorship.")
        if pending
        else _l("You are now their mentor."),
        dedupe_key=f"mentoring.new:{mentorship.id}:mentor",
        mentorship_id=mentorship.id,
    )
    notify(
        mentee_user,
        "mentoring.mentor_proposed" if pending else "mentoring.mentor_assigned",
        _l("Your mentor: {mentor_name}", mentor_name=mentor_name),
        _l("They will get in touch once they have accepted.") if pending else _l("Say hello!"),
        dedupe_key=f"mentoring.new:{mentorship.id}:mentee",
        mentorship_id=mentorship.id,
    )
    return mentorship


# --- the three ways ------------------------------------------------------------------------


def auto_assign(mentee_id: int) -> Mentorship | None:
    """Propose the best mentor for a mentee who needs one (idempotent: a mentee with a live
    mentorship, or who does not need one, is left alone). None when nobody fits."""
    mentee = lock_member(mentee_id)
    if mentee is None:
        return None
    if not db.session.scalar(select(_needs_mentor_condition()).where(Member.id == mentee_id)):
        return None
    before = set(
        db.session.scalars(select(Mentorship.mentor_id).where(Mentorship.mentee_id == mentee_id))
    )
    found = candidates(mentee, exclude=before)
    for candidate in found:
        profile = _locked_profile(candidate.member_id)
        if _live_of(candidate.member_id) >= profile.capacity:
            continue  # filled meanwhile by a concurrent assignment
        details = {**candidate.details, "candidates": len(found)}
        return _create(mentee, candidate.member_id, origin="system", details=details)
    return None


def staff_assign(*, actor: Principal, mentee_id: int, mentor_id: int) -> dict:
    """A community manager pairs a mentee with a mentor (proposed: the mentor accepts)."""
    require_staff(actor)
    mentee = _check_mentee(lock_member(mentee_id))
    _check_mentor(mentor_id)
    details = {"assigned_by_user_id": actor.user_id}
    mentorship = _create(mentee, mentor_id, origin="staff", details=details, by=actor.user_id)
    return present_mentorship(mentorship)


def reassign(*, actor: Principal, mentorship_id: int, mentor_id: int, reason: str) -> dict:
    """A community manager gives a mentee another mentor: the live mentorship ends (by staff,
    with the reason) and a new one is proposed to `mentor_id`, in the same unit of work — if
    the new mentor cannot take them (409), nothing changes. The current mentor: 422."""
    require_staff(actor)
    mentorship, _role = mentorship_for(actor, mentorship_id)
    if mentorship.mentor_id == mentor_id:
        raise field_error("mentor_id", _("is the current mentor"))
    end(actor=actor, mentorship_id=mentorship_id, reason=f"reassigned: {reason}")
    return staff_assign(actor=actor, mentee_id=mentorship.mentee_id, mentor_id=mentor_id)


def claim(*, actor: Principal, mentee_id: int) -> dict:
    """A mentor takes an unmatched Starter on directly: the mentorship starts active."""
    mentor_id = actor.require_member_id()
    # Whom a member may not see (an applicant, a suspended or departed member) is not found,
    # as an id that names no one; only about the working crowd does the answer say more.
    visible_member(actor, mentee_id, public_face=True)
    mentee = _check_mentee(lock_member(mentee_id))
    _check_mentor(mentor_id)
    mentorship = _create(
        mentee,
        mentor_id,
        origin="mentor",
        details={"claimed": True},
        by=actor.user_id,
        status="active",
        accepted_at=utcnow(),
    )
    return present_mentorship(mentorship)


def unmatched(*, actor: Principal, **args) -> dict:
    """Starters without a live mentorship (never graduated), oldest member first."""
    require_staff(actor)
    query = select(Member).where(_needs_mentor_condition())
    return paginate(query, args, order=[Member.id])


def unmatched_ids(limit: int = 1000) -> list[int]:
    query = select(Member.id).where(_needs_mentor_condition()).order_by(Member.id).limit(limit)
    return list(db.session.scalars(query))
