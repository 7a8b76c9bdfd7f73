"""Shared helpers for the jobs tests: draining background work, posting jobs, active members.

Others may append fixtures here; keep the names below stable.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from crowd.core import background
from crowd.core.db import utcnow
from crowd.extensions import db
from jobs.models import Job, JobWindow
from members.models import (
    AvailabilitySlot,
    Member,
    MemberSkill,
    MemberStats,
    Skill,
    SkillCategory,
)
from notifications.models import Notification
from tests.factories import Actor, make_actor

# Berlin Mitte: the default service address and member location.
BERLIN = {"lat": 52.52, "lon": 13.405}
DEFAULT_CATEGORY = "tv_audio"
DEFAULT_SKILL = "tv_wall_mount"


def drain_background(app, *, rounds: int = 10) -> None:
    """Run every due background message until nothing is left (RQ burst with Redis, else inline).

    Tasks may enqueue more work (a wave's notifications, say); keep going until a round finds
    nothing due.
    """
    for _ in range(rounds):
        if not app.config["CROWD_SETTINGS"].inline_background:
            _rq_burst(app)
        delivered = background.relay_outbox()
        if not app.config["CROWD_SETTINGS"].inline_background:
            _rq_burst(app)
        if not delivered:
            return


def _rq_burst(app) -> None:
    from rq import Queue, SimpleWorker

    connection = background.redis_connection()
    queue = Queue(app.config["CROWD_SETTINGS"].rq_queue, connection=connection)
    SimpleWorker([queue], connection=connection).work(burst=True)


def future(hours: float = 48, *, minutes: float = 0) -> datetime:
    """An aware UTC instant `hours` from now, on a whole minute."""
    when = datetime.now(UTC) + timedelta(hours=hours, minutes=minutes)
    return when.replace(second=0, microsecond=0)


def job_body(**overrides) -> dict:
    """A valid POST /api/v1/jobs body (fixed price, Berlin, one 4-hour window in two days)."""
    start = future(48)
    body = {
        "category": DEFAULT_CATEGORY,
        "skills": [DEFAULT_SKILL],
        "title": "Mount a 55-inch TV on a brick wall",
        "description": "Bracket is there; needs drilling into brick and hiding cables.",
        "device": {"kind": "tv", "brand": "Sony", "model": "KD-55X85", "age_years": 1},
        "address": {
            "street": "Unter den Linden 1",
            "postcode": "10117",
            "city": "Berlin",
            "country": "DE",
            **BERLIN,
        },
        "windows": [
            {"starts_at": start.isoformat(), "ends_at": (start + timedelta(hours=4)).isoformat()}
        ],
        "duration_minutes": 90,
        "pricing": {"kind": "fixed", "amount": 12000},
        "currency": "EUR",
    }
    body.update(overrides)
    return body


def post_job_via_api(client, customer: Actor, *, headers: dict | None = None, **overrides):
    """POST a job as `customer` (the default body with `overrides`); returns the response."""
    return client.post(
        "/api/v1/jobs",
        json=job_body(**overrides),
        headers={**customer.headers, **(headers or {})},
    )


@pytest.fixture
def make_job(client):
    """Factory: post a job via the API as `customer` and return its JSON (asserting 201)."""

    def _make(customer: Actor, **overrides) -> dict:
        response = post_job_via_api(client, customer, **overrides)
        assert response.status_code == 201, response.get_json()
        return response.get_json()

    return _make


def active_member(
    *,
    skills: tuple[str, ...] = (DEFAULT_SKILL,),
    verified: bool = True,
    lat: float = BERLIN["lat"],
    lon: float = BERLIN["lon"],
    radius_km: int = 30,
    level_rank: int = 1,
    max_concurrent_jobs: int = 2,
    **kw,
) -> Actor:
    """An active member in Berlin with `skills`, available all week round, with stats."""
    actor = make_actor("member", **kw)
    member = db.session.get(Member, actor.profile_id)
    member.status = "active"
    member.level_rank = level_rank
    member.lat, member.lon = lat, lon
    member.postcode, member.city, member.country = "10117", "Berlin", "DE"
    member.service_radius_km = radius_km
    member.max_concurrent_jobs = max_concurrent_jobs
    for slug in skills:
        skill = db.session.scalar(select(Skill).where(Skill.slug == slug))
        db.session.add(
            MemberSkill(member_id=member.id, skill_id=skill.id, proficiency=2, verified=verified)
        )
    for weekday in range(7):
        db.session.add(
            AvailabilitySlot(member_id=member.id, weekday=weekday, start_minute=0, end_minute=1440)
        )
    if db.session.get(MemberStats, member.id) is None:
        db.session.add(MemberStats(member_id=member.id))
    db.session.commit()
    return actor


def force_job_state(job_id: int, **columns) -> Job:
    """Set a job's columns directly (status, assigned_member_id, scheduled_start …) and commit.

    For tests that need a job in a state the code under test does not reach by itself.
    """
    job = db.session.get(Job, job_id)
    for name, value in columns.items():
        setattr(job, name, value)
    db.session.commit()
    return job


def notifications_for(user_id: int, kind: str | None = None) -> list[Notification]:
    """The inbox entries written for a user (drain background work first)."""
    query = select(Notification).where(Notification.user_id == user_id)
    if kind:
        query = query.where(Notification.kind == kind)
    db.session.expire_all()
    return list(db.session.scalars(query.order_by(Notification.id)))


def finished_job(
    customer, member, *, status: str = "completed", completed_ago: timedelta = timedelta(hours=2)
) -> int:
    """A job of `customer` done by `member`, forced into `status` straight in the database."""
    done = utcnow() - completed_ago
    category = db.session.scalar(select(SkillCategory).where(SkillCategory.slug == "tv_audio"))
    job = Job(
        customer_id=customer.profile_id,
        category_id=category.id,
        title="Mount a TV",
        description="On a brick wall.",
        device={"kind": "tv"},
        postcode="10117",
        city="Berlin",
        country="DE",
        lat=52.52,
        lon=13.405,
        duration_minutes=90,
        pricing="fixed",
        currency="EUR",
        price_amount=12000,
        status=status,
        assigned_member_id=member.profile_id if member else None,
        assigned_at=done - timedelta(hours=3),
        scheduled_start=done - timedelta(hours=2),
        scheduled_end=done,
        completed_at=done if status in ("completed", "confirmed", "closed") else None,
        windows=[JobWindow(starts_at=done - timedelta(hours=2), ends_at=done)],
    )
    db.session.add(job)
    db.session.commit()
    return job.id
