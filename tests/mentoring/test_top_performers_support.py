"""Helpers for the top-performer tests: members with a record of confirmed, reviewed jobs."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from crowd.core.db import utcnow
from crowd.extensions import db
from jobs.models import Job, JobEvent, JobWindow, Offer, Review
from members.models import SkillCategory
from mentoring.top_performers.periods import Period, period_at
from support.models import Resolution, Sanction, Ticket
from tests.factories import Actor
from tests.jobs.conftest import active_member

API = "/api/v1"
RUNS = f"{API}/top-performer-runs"


def current_quarter() -> Period:
    return period_at(utcnow(), 3)


def previous_quarter() -> Period:
    current = current_quarter()
    return period_at(current.start - timedelta(days=1), 3)


def category_id(slug: str = "tv_audio") -> int:
    return db.session.scalar(select(SkillCategory.id).where(SkillCategory.slug == slug))


def done_jobs(
    customer: Actor,
    member: Actor,
    count: int,
    *,
    at: datetime,
    stars: int | list[int] | None = 5,
    category: str = "tv_audio",
    status: str = "confirmed",
) -> list[int]:
    """`count` jobs of `member` confirmed at `at` (+ i minutes), each with a published
    customer review of `stars` (a list: one per job; None: no review)."""
    cat = category_id(category)
    ids = []
    for i in range(count):
        when = at + timedelta(minutes=i)
        job = Job(
            customer_id=customer.profile_id,
            category_id=cat,
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
            assigned_member_id=member.profile_id,
            assigned_at=when - timedelta(hours=5),
            scheduled_start=when - timedelta(hours=4),
            scheduled_end=when - timedelta(hours=3),
            completed_at=when - timedelta(hours=3),
            confirmed_at=when,
            windows=[JobWindow(starts_at=when - timedelta(hours=4), ends_at=when)],
        )
        db.session.add(job)
        db.session.flush()
        given = stars[i] if isinstance(stars, list) else stars
        if given is not None:
            db.session.add(
                Review(
                    job_id=job.id,
                    author="customer",
                    author_user_id=customer.user_id,
                    stars=given,
                    published_at=when,
                )
            )
        ids.append(job.id)
    db.session.commit()
    return ids


def performer(customer: Actor, *, jobs: int = 20, at: datetime, stars=5, **kw) -> Actor:
    """An active member (Berlin, DE) with `jobs` confirmed, reviewed tv_audio jobs at `at`."""
    actor = active_member(**kw)
    if jobs:
        done_jobs(customer, actor, jobs, at=at, stars=stars)
    return actor


def withdrawals(customer: Actor, member: Actor, count: int, *, at: datetime) -> None:
    """`count` jobs the member backed out of at `at` (the jobs' withdraw events)."""
    for job_id in done_jobs(customer, member, count, at=at, stars=None, status="open"):
        job = db.session.get(Job, job_id)
        job.assigned_member_id = None
        job.confirmed_at = None
        db.session.add(
            JobEvent(
                job_id=job_id,
                action="withdraw",
                from_status="assigned",
                to_status="open",
                actor="member",
                actor_user_id=member.user_id,
                detail={"member_id": member.profile_id},
                created_at=at,
            )
        )
    db.session.commit()


def answered_offers(member: Actor, job_ids: list[int], status: str, *, at: datetime) -> None:
    for job_id in job_ids:
        db.session.add(
            Offer(
                job_id=job_id,
                member_id=member.profile_id,
                wave=1,
                status=status,
                sent_at=at - timedelta(minutes=5),
                expires_at=at + timedelta(hours=1),
                responded_at=at,
            )
        )
    db.session.commit()


def sanction(member: Actor, staff: Actor, *, at: datetime, kind: str = "warn") -> None:
    db.session.add(
        Sanction(
            member_id=member.profile_id,
            kind=kind,
            reason="Late twice",
            created_by_id=staff.user_id,
            created_at=at,
        )
    )
    db.session.commit()


def lost_dispute(member: Actor, staff: Actor, job_id: int, *, at: datetime) -> None:
    ticket = Ticket(
        subject="Scratched wall",
        category="damage",
        priority="normal",
        status="closed",
        job_id=job_id,
        member_id=member.profile_id,
        opened_by_id=staff.user_id,
        opened_by_role="staff",
        dispute=True,
        first_response_due_at=at,
        resolution_due_at=at,
        created_at=at,
        updated_at=at,
    )
    db.session.add(ticket)
    db.session.flush()
    db.session.add(
        Resolution(
            ticket_id=ticket.id,
            job_id=job_id,
            kind="goodwill",
            goodwill_amount=1000,
            currency="EUR",
            member_at_fault=True,
            status="applied",
            proposed_by_id=staff.user_id,
            proposed_at=at,
            respond_by=at,
            applied_at=at,
            applied_by="staff",
        )
    )
    db.session.commit()


def run(client, actor: Actor, period: str | None = None):
    body = {} if period is None else {"period": period}
    return client.post(RUNS, json=body, headers=actor.headers)
