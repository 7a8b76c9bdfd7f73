"""Rules for crowd members: catalogue, profiles, skills, availability, status and counters."""

from __future__ import annotations

import statistics
from datetime import datetime

from sqlalchemy import select

from crowd.core.db import utcnow
from crowd.extensions import db
from crowd.members.catalogue import CATEGORIES
from crowd.members.models import MemberStats, Skill, SkillCategory

# How many recent response times the median is taken over.
RESPONSE_WINDOW = 50


# --- catalogue ----------------------------------------------------------------------------


def sync_catalogue() -> int:
    """Create or update the skill catalogue from crowd.members.catalogue; returns new skills."""
    categories = {c.slug: c for c in db.session.scalars(select(SkillCategory))}
    skills = {s.slug: s for s in db.session.scalars(select(Skill))}
    created = 0
    for entry in CATEGORIES:
        category = categories.get(entry["slug"])
        if category is None:
            category = SkillCategory(slug=entry["slug"])
            db.session.add(category)
        category.name = entry["name"]
        category.name_de = entry["name_de"]
        category.requires_verification = entry["requires_verification"]
        db.session.flush()
        for item in entry["skills"]:
            skill = skills.get(item["slug"])
            if skill is None:
                skill = Skill(slug=item["slug"])
                db.session.add(skill)
                created += 1
            skill.name, skill.service, skill.category_id = item["name"], item["service"], category.id
    db.session.flush()
    return created


# --- performance counters, maintained by events --------------------------------------------


def _stats_for_update(member_id: int) -> MemberStats:
    stats = db.session.execute(
        select(MemberStats).where(MemberStats.member_id == member_id).with_for_update()
    ).scalar_one_or_none()
    if stats is None:
        stats = MemberStats(member_id=member_id)
        db.session.add(stats)
        db.session.flush()
    return stats


def _refresh_rates(stats: MemberStats) -> None:
    answered = stats.offers_accepted + stats.offers_declined
    stats.acceptance_rate = round(stats.offers_accepted / answered, 4) if answered else None
    taken = stats.jobs_completed + stats.jobs_cancelled
    stats.cancellation_rate = round(stats.jobs_cancelled / taken, 4) if taken else None
    stats.average_rating = (
        round(stats.rating_sum / stats.rating_count, 3) if stats.rating_count else None
    )


def record_offer_received(member_id: int) -> None:
    """An offer was sent to the member."""
    stats = _stats_for_update(member_id)
    stats.offers_received += 1


def record_offer_answered(member_id: int, *, accepted: bool, response_seconds: int) -> None:
    """The member accepted or declined an offer after `response_seconds`."""
    stats = _stats_for_update(member_id)
    if accepted:
        stats.offers_accepted += 1
    else:
        stats.offers_declined += 1
    window = (list(stats.recent_response_seconds or []) + [max(0, int(response_seconds))])[
        -RESPONSE_WINDOW:
    ]
    stats.recent_response_seconds = window
    stats.median_response_seconds = int(statistics.median(window))
    _refresh_rates(stats)


def record_job_completed(member_id: int, *, at: datetime | None = None) -> None:
    stats = _stats_for_update(member_id)
    stats.jobs_completed += 1
    stats.last_job_completed_at = at or utcnow()
    _refresh_rates(stats)


def record_job_cancelled_by_member(member_id: int) -> None:
    stats = _stats_for_update(member_id)
    stats.jobs_cancelled += 1
    _refresh_rates(stats)


def record_rating(member_id: int, *, stars: int) -> None:
    """A published review's stars (1–5) count towards the average."""
    if not 1 <= stars <= 5:
        raise ValueError("stars must be 1..5")
    stats = _stats_for_update(member_id)
    stats.rating_count += 1
    stats.rating_sum += stars
    _refresh_rates(stats)
