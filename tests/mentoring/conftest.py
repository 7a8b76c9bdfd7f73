"""Shared helpers for the programme tests: eligible mentors, Starters, mentorships via the API.

Others may append fixtures here; keep the names below stable.
"""

from __future__ import annotations

from datetime import timedelta

from flask import current_app
from sqlalchemy import select

from crowd.core.db import utcnow
from crowd.extensions import db
from members.models import Member, MemberStats
from mentoring.models import Mentorship
from onboarding.models import MemberLevel
from tests.factories import Actor
from tests.jobs.conftest import (  # noqa: F401  (make_job: a fixture)
    active_member,
    drain_background,
    make_job,
    notifications_for,
)
from tests.onboarding.conftest import default_ladder  # noqa: F401  (fixture)

API = "/api/v1"
MENTOR_BODY = {
    "capacity": 2,
    "skills": ["tv_wall_mount"],
    "countries": ["DE"],
    "max_distance_km": 50,
    "bio": "Twenty years of wall mounts.",
}


def ok(response, status: int = 200) -> dict:
    assert response.status_code == status, response.get_json()
    return response.get_json()


def problem(response, status: int) -> dict:
    assert response.status_code == status, response.get_json()
    assert response.mimetype == "application/problem+json"
    return response.get_json()


def set_record(
    actor: Actor, *, ratings: int = 12, stars: int = 5, jobs: int = 0, tenure_days: int = 0
) -> None:
    """Give a member a rating record, completed jobs and a tenure (MemberLevel.active_since)."""
    stats = db.session.get(MemberStats, actor.profile_id) or MemberStats(member_id=actor.profile_id)
    stats.rating_count, stats.rating_sum = ratings, ratings * stars
    stats.average_rating = stars if ratings else None
    stats.jobs_completed = jobs
    db.session.add(stats)
    standing = db.session.get(MemberLevel, actor.profile_id)
    if standing is None:
        standing = MemberLevel(member_id=actor.profile_id)
        db.session.add(standing)
    standing.active_since = utcnow() - timedelta(days=tenure_days)
    db.session.commit()


def eligible_member(*, level_rank: int = 3, **kw) -> Actor:
    """An active Senior in Berlin with twelve 5-star ratings: meets every mentor criterion."""
    actor = active_member(level_rank=level_rank, **kw)
    set_record(actor, ratings=12, stars=5, tenure_days=400)
    return actor


def opt_in(client, actor: Actor, **overrides):
    return client.put(f"{API}/me/mentor", json={**MENTOR_BODY, **overrides}, headers=actor.headers)


def mentor(client, **kw) -> Actor:
    """An eligible member signed up as a mentor (capacity 2, tv_wall_mount, DE, 50 km)."""
    body = kw.pop("body", {})
    actor = eligible_member(**kw)
    ok(opt_in(client, actor, **body))
    return actor


def starter(**kw) -> Actor:
    """An active Starter (rank 1) in Berlin with tv_wall_mount, admitted today."""
    actor = active_member(level_rank=1, **kw)
    set_record(actor, ratings=0, jobs=0, tenure_days=0)
    return actor


def mentorships_of(mentee: Actor) -> list[Mentorship]:
    """The mentee's mentorships, oldest first, after running the background work due."""
    drain_background(current_app)
    db.session.expire_all()
    query = select(Mentorship).where(Mentorship.mentee_id == mentee.profile_id)
    return list(db.session.scalars(query.order_by(Mentorship.id)))


def member_row(actor: Actor) -> Member:
    """The member's row, fresh (pending changes are flushed first, not lost)."""
    db.session.flush()
    db.session.expire_all()
    return db.session.get(Member, actor.profile_id)


def inbox(app, actor: Actor, kind: str) -> list:
    """The actor's notifications of `kind`, after running the background work due."""
    drain_background(app)
    return notifications_for(actor.user_id, kind)
