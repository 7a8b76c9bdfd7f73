"""Matching as staff see it: a job's ranked candidates and why a member is not among them."""

from __future__ import annotations

import math

from sqlalchemy import and_, func, select, text

from crowd.core.auth import Principal
from crowd.core.errors import Forbidden, NotFound
from crowd.core.i18n import _
from crowd.extensions import db
from jobs.matching.eligibility import (
    MEMBER_REACH_SQL,
    REQUIREMENT_SUMMARIES,
    problems_for,
    problems_for_members,
)
from jobs.matching.facts import KM_PER_DEGREE, JobFacts, haversine_km
from jobs.matching.ranking import WEIGHTS, rank
from jobs.models import Job, Offer
from members.models import Member, MemberSkill, Skill

# The near misses: members whose service area comes this close to the job; of them, at most
# NEAR_MISS_SCAN times the number asked for are checked.
NEAR_MISS_KM = 50
NEAR_MISS_SCAN = 3


def _staff_job(actor: Principal, job_id: int) -> Job:
    if not actor.is_staff:
        raise Forbidden(_("Only community managers and admins see matching."))
    job = db.session.get(Job, job_id)
    if job is None:
        raise NotFound(_("No such job."))
    return job


def _offer_statuses(job_id: int) -> dict[int, str]:
    rows = db.session.execute(select(Offer.member_id, Offer.status).where(Offer.job_id == job_id))
    return {member_id: status for member_id, status in rows}


def list_candidates(
    *, actor: Principal, job_id: int, limit: int, include_offered: bool = False
) -> dict:
    """The ranked candidates for a job, as the next wave would see them, with the weights.

    Members already offered the job (in any state) are left out, as dispatch leaves them out;
    with `include_offered` they are listed too, with their offer's status.
    """
    job = _staff_job(actor, job_id)
    offers = _offer_statuses(job.id)
    excluded = () if include_offered else offers.keys()
    candidates = rank(job, limit=limit, exclude_member_ids=excluded)
    listed = [c.member_id for c in candidates]
    names = {
        member_id: name
        for member_id, name in db.session.execute(
            select(Member.id, Member.display_name).where(Member.id.in_(listed))
        )
    }
    items = [
        {
            "member_id": c.member_id,
            "display_name": names.get(c.member_id),
            "score": c.score,
            "distance_km": c.distance_km,
            "window": {"id": c.window_id, "starts_at": c.window_start, "ends_at": c.window_end},
            "breakdown": c.breakdown,
            "offer_status": offers.get(c.member_id),
        }
        for c in candidates
    ]
    return {
        "job_id": job.id,
        "weights": WEIGHTS,
        "requirements": REQUIREMENT_SUMMARIES,
        "items": items,
    }


def explain_eligibility(*, actor: Principal, job_id: int, member_id: int) -> dict:
    """Whether a member may take a job and, if not, every requirement they fail."""
    job = _staff_job(actor, job_id)
    if db.session.get(Member, member_id) is None:
        raise NotFound(_("No such crowd member."))
    problems = problems_for(job, member_id)
    offer_status = _offer_statuses(job.id).get(member_id)
    return {
        "job_id": job.id,
        "member_id": member_id,
        "eligible": not problems,
        "problems": problems,
        # Dispatch never offers a job twice to one member, eligible or not.
        "offer_status": offer_status,
    }


def _reach_comes_near(facts: JobFacts):
    """The member's service area comes within NEAR_MISS_KM of the job: on PostgreSQL the GiST
    index of members' reach (a box NEAR_MISS_KM around the job overlaps it), elsewhere the
    portable box comparison."""
    margin = NEAR_MISS_KM / KM_PER_DEGREE
    lon_margin = margin / max(math.cos(math.radians(facts.lat)), 0.01)
    if facts.shape.postgres:
        return text(
            f"{MEMBER_REACH_SQL} && box(point(:near_lon_lo, :near_lat_lo), "
            "point(:near_lon_hi, :near_lat_hi))"
        ).bindparams(
            near_lon_lo=facts.lon - lon_margin,
            near_lat_lo=facts.lat - margin,
            near_lon_hi=facts.lon + lon_margin,
            near_lat_hi=facts.lat + margin,
        )
    km_per_lon = KM_PER_DEGREE * max(math.cos(math.radians(facts.lat)), 0.01)
    return and_(
        func.abs(Member.lat - facts.lat) * KM_PER_DEGREE <= Member.service_radius_km + NEAR_MISS_KM,
        func.abs(Member.lon - facts.lon) * km_per_lon <= Member.service_radius_km + NEAR_MISS_KM,
    )


def list_ineligible(*, actor: Principal, job_id: int, limit: int) -> dict:
    """Members who nearly fit the job but may not take it, each with every requirement failed.

    Bounded: only members of the job's country holding one of its skills (any skill of its
    category when it names none), verified or not, whose service area comes within
    NEAR_MISS_KM of the job, nearest first; at most `limit` × NEAR_MISS_SCAN of them are
    checked, with the same explanation as `explain_eligibility`, and the first `limit` who
    fail are listed.
    """
    job = _staff_job(actor, job_id)
    facts = JobFacts.of(job)
    lon_scale = max(math.cos(math.radians(facts.lat)), 0.01)
    skill = (
        MemberSkill.skill_id.in_(facts.skill_ids)
        if facts.skill_ids
        else MemberSkill.skill_id.in_(select(Skill.id).where(Skill.category_id == job.category_id))
    )
    nearest = (Member.lat - facts.lat) * (Member.lat - facts.lat) + (Member.lon - facts.lon) * (
        Member.lon - facts.lon
    ) * lon_scale * lon_scale
    rows = db.session.execute(
        select(Member.id, Member.display_name, Member.lat, Member.lon)
        .where(
            Member.country == job.country,
            _reach_comes_near(facts),
            Member.id.in_(select(MemberSkill.member_id).where(skill)),
        )
        .order_by(nearest, Member.id)
        .limit(limit * NEAR_MISS_SCAN)
    ).all()
    offers = _offer_statuses(job.id)
    explained = problems_for_members(job, [row.id for row in rows])
    items = []
    for row in rows:
        problems = explained.get(row.id)
        if not problems:
            continue
        items.append(
            {
                "member_id": row.id,
                "display_name": row.display_name,
                "distance_km": round(haversine_km(facts.lat, facts.lon, row.lat, row.lon), 1),
                "problems": problems,
                "offer_status": offers.get(row.id),
            }
        )
        if len(items) == limit:
            break
    return {"job_id": job.id, "checked": len(rows), "items": items}
