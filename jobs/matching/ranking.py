"""How eligible members are ranked: a documented, weighted score from 0 to 100.

Each component is a value in 0..1 multiplied by its weight in WEIGHTS (the weights add up to
100, so the score does too); `Candidate.breakdown` holds every weighted contribution, and the
score is their sum. Components:

    distance       1 − distance / the member's service radius: how far into the distance the
                   member is willing to travel the job lies (the edge of it is least attractive)
    rating         average rating smoothed towards 4.5 as if RATING_PRIOR_COUNT such ratings
                   came first (few ratings say little), mapped from 1..5 to 0..1
    experience     completed jobs in the job's category (counted from the jobs table: status
                   completed, confirmed or closed), log-scaled, full at EXPERIENCE_FULL jobs
    acceptance     offers accepted / answered, smoothed towards ACCEPTANCE_PRIOR
    reliability    1 − jobs cancelled / taken, the rate smoothed towards CANCELLATION_PRIOR
    response_time  median response to offers: 1 when instant, ½ at RESPONSE_HALF_SECONDS;
                   ½ without history
    load           1 − active jobs / max_concurrent_jobs: free members first
    fairness       recent earnings: 1 − (price of jobs completed in the last 30 days, in the
                   job's currency) / FAIRNESS_FULL_MINOR, so work spreads to who earned less
    level          level_rank / LEVEL_FULL (Starter 1 … Expert 4)
    programme      boost from a programme (`add_programme_boost`; mentoring gives holders of a
                   valid top-performer badge MENTORING_TOP_MATCHING_BOOST_PERCENT / 100)
    favourite      1 when the job's customer marked the member a favourite

Ties go to the nearer member, then the lower member id, so the order is stable.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

from sqlalchemy import BigInteger, cast, exists, func, select
from sqlalchemy.orm import aliased

from crowd.core.db import utcnow
from crowd.extensions import db
from customers.models import FavouriteMember
from jobs.matching.calendar import fit_member, load_calendars
from jobs.matching.eligibility import (
    distance_in_reach,
    on_requirements_change,
    prefilter_params,
    prefilter_query,
)
from jobs.matching.facts import JobFacts, Shape, SqlJob
from jobs.models import Job
from members.models import MemberStats

WEIGHTS: dict[str, float] = {
    "distance": 20,
    "rating": 15,
    "experience": 10,
    "acceptance": 10,
    "reliability": 10,
    "response_time": 5,
    "load": 5,
    "fairness": 5,
    "level": 5,
    "programme": 5,
    "favourite": 10,
}

RATING_PRIOR = 4.5
RATING_PRIOR_COUNT = 5
EXPERIENCE_FULL = 20
ACCEPTANCE_PRIOR, ACCEPTANCE_PRIOR_COUNT = 0.75, 4
CANCELLATION_PRIOR, CANCELLATION_PRIOR_COUNT = 0.05, 10
RESPONSE_HALF_SECONDS = 600
FAIRNESS_FULL_MINOR = 150_000  # 1,500.00 in the job's currency over 30 days
FAIRNESS_DAYS = 30
LEVEL_FULL = 4
DONE_STATUSES = ("completed", "confirmed", "closed")
# Availability is checked in score order, in batches, until `limit` members fit: a batch is
# half again the members still wanted (most of the best fit), or this many without a limit.
AVAILABILITY_BATCH = 200


@dataclass(frozen=True)
class Candidate:
    """An eligible member for a job, with the window they would take and why they rank here."""

    member_id: int
    user_id: int
    score: float  # higher is better, 0..100
    distance_km: float
    window_id: int  # the job window the member is free in (earliest fitting)
    window_start: datetime  # scheduled start if this member takes the job
    window_end: datetime  # window_start + job.duration_minutes
    breakdown: dict[str, float]  # each weighted component's contribution


# Programmes that boost their members' ranking, added by the packages that run them
# (mentoring: top performers); each gives member id → boost in 0..1 for a batch of members.
_PROGRAMMES: list[Callable[[Sequence[int]], dict[int, float]]] = []


def add_programme_boost(boosts: Callable[[Sequence[int]], dict[int, float]]) -> None:
    if boosts not in _PROGRAMMES:
        _PROGRAMMES.append(boosts)


def programme_boosts(member_ids: Sequence[int]) -> dict[int, float]:
    """Programme boost per member in 0..1 (missing members get 0): the highest any programme
    gives them, one query per programme for the batch."""
    best: dict[int, float] = {}
    for boosts in _PROGRAMMES:
        for member_id, boost in boosts(member_ids).items():
            best[member_id] = max(boost, best.get(member_id, 0.0))
    return best


@lru_cache(maxsize=128)
def _ranked_query(shape: Shape, excluding: bool):
    """The bare prefilter with every ranking input alongside, computed by the database.

    History comes from the jobs table through ix_jobs_member_status, per prefiltered member.
    """
    job = SqlJob(shape)
    eligible = prefilter_query(shape, excluding=excluding).subquery("eligible")
    done = aliased(Job)

    def history(value, *conditions):
        return (
            select(value)
            .where(done.assigned_member_id == eligible.c.id, done.status.in_(DONE_STATUSES))
            .where(*conditions)
            .scalar_subquery()
        )

    favourite = (FavouriteMember.customer_id == job.customer_id) & (
        FavouriteMember.member_id == eligible.c.id
    )
    return select(
        eligible,
        MemberStats.offers_accepted,
        MemberStats.offers_declined,
        MemberStats.jobs_completed,
        MemberStats.jobs_cancelled,
        MemberStats.rating_count,
        MemberStats.rating_sum,
        MemberStats.median_response_seconds,
        history(func.count(), done.category_id == job.category_id).label("done_in_category"),
        history(
            # SUM of a bigint is numeric on PostgreSQL: back to whole minor units.
            cast(func.coalesce(func.sum(done.price_amount), 0), BigInteger),
            done.completed_at >= job.since,
            done.currency == job.currency,
        ).label("recent_earnings"),
        exists().where(favourite).label("favourite"),
    ).outerjoin(MemberStats, MemberStats.member_id == eligible.c.id)


on_requirements_change(_ranked_query.cache_clear)


def _smoothed(hits: int, total: int, prior: float, weight: int) -> float:
    return (hits + prior * weight) / (total + weight)


def _values(row, distance_km: float, boost: float) -> tuple[float, ...]:
    """Each component's value in 0..1, in the order of WEIGHTS."""
    # Positional: the columns of _ranked_query after id, user_id, country, lat and lon.
    radius, max_jobs, level, active_jobs, accepted, declined, completed, cancelled = row[5:13]
    rating_count, rating_sum, response, done_in_category, earned, favourite = row[13:19]
    accepted, declined = accepted or 0, declined or 0
    completed, cancelled = completed or 0, cancelled or 0
    rating = (RATING_PRIOR * RATING_PRIOR_COUNT + (rating_sum or 0)) / (
        RATING_PRIOR_COUNT + (rating_count or 0)
    )
    cancel_rate = _smoothed(
        cancelled, completed + cancelled, CANCELLATION_PRIOR, CANCELLATION_PRIOR_COUNT
    )
    # Clamped where the inputs can leave the range (the others cannot).
    return (
        1 - distance_km / radius,
        min(1.0, max(0.0, (rating - 1) / 4)),
        min(1.0, math.log1p(done_in_category) / math.log1p(EXPERIENCE_FULL)),
        _smoothed(accepted, accepted + declined, ACCEPTANCE_PRIOR, ACCEPTANCE_PRIOR_COUNT),
        1 - cancel_rate,
        0.5 if response is None else 1 / (1 + response / RESPONSE_HALF_SECONDS),
        max(0.0, 1 - active_jobs / max_jobs),
        max(0.0, 1 - earned / FAIRNESS_FULL_MINOR),
        min(1.0, level / LEVEL_FULL),
        min(1.0, max(0.0, boost)),
        1.0 if favourite else 0.0,
    )


_NAMES = tuple(WEIGHTS)
# Contributions are kept in thousandths of a point, as integers: the score is exactly the sum
# of the breakdown, and ties are ties.
_MILLI_WEIGHTS = tuple(1000 * weight for weight in WEIGHTS.values())


def weigh(values: Sequence[float]) -> tuple[int, list[int]]:
    """The score and each component's contribution, in thousandths (rounded half up)."""
    parts = [int(w * v + 0.5) for w, v in zip(_MILLI_WEIGHTS, values, strict=True)]
    return sum(parts), parts


def rank(
    job: Job,
    *,
    limit: int | None = None,
    exclude_member_ids: Iterable[int] = (),
    now: datetime | None = None,
) -> list[Candidate]:
    """Eligible members for `job`, best first: prefilter, score, then keep who is available."""
    now = now or utcnow()
    facts = JobFacts.of(job)
    if not facts.windows or limit == 0:
        return []
    params, excluding = prefilter_params(facts, exclude_member_ids)
    params["since"] = now - timedelta(days=FAIRNESS_DAYS)
    rows = db.session.execute(_ranked_query(facts.shape, excluding), params).all()
    boosts = programme_boosts([row.id for row in rows])
    scored = []
    for row in rows:
        member_id, _, _, lat, lon, radius = row[:6]
        distance = distance_in_reach(facts, lat, lon, radius)
        if distance is None:
            continue
        milli_score, parts = weigh(_values(row, distance, boosts.get(member_id, 0.0)))
        scored.append((-milli_score, distance, member_id, parts, row))
    scored.sort(key=lambda item: item[:3])
    candidates: list[Candidate] = []
    # The score does not depend on the window, so availability — the costly check — is only
    # worked out for as many of the best as it takes to fill `limit`.
    offset = 0
    while offset < len(scored):
        wanted = AVAILABILITY_BATCH if limit is None else limit - len(candidates)
        chunk = scored[offset : offset + max(8, wanted * 3 // 2)]
        offset += len(chunk)
        calendar = load_calendars(facts, [member_id for _, _, member_id, _, _ in chunk])
        for negative_milli_score, distance, member_id, parts, row in chunk:
            fit = fit_member(facts, calendar, member_id, row.country, now=now)
            if fit is None:
                continue
            candidates.append(
                Candidate(
                    member_id=member_id,
                    user_id=row.user_id,
                    score=-negative_milli_score / 1000,
                    distance_km=round(distance, 2),
                    window_id=fit.window_id,
                    window_start=fit.starts_at,
                    window_end=fit.ends_at,
                    breakdown={name: p / 1000 for name, p in zip(_NAMES, parts, strict=True)},
                )
            )
            if limit is not None and len(candidates) >= limit:
                return candidates
    return candidates
