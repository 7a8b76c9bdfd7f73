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
    programme      boost from a programme (`add_programme_boost`; jobs.company gives a vetted
                   provider company's technicians 0.5 for its standing; mentoring gives holders of a
                   valid top-performer badge MENTORING_TOP_MATCHING_BOOST_PERCENT / 100)
    favourite      1 when the job's customer marked the member a favourite

Ties go to the nearer member, then the lower member id, so the order is stable.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from itertools import islice

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Float,
    Integer,
    and_,
    bindparam,
    case,
    cast,
    func,
    literal_column,
    select,
    true,
)
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
from jobs.matching.facts import EARTH_RADIUS_KM, JobFacts, Shape, SqlJob
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


def _num(value: float):
    """A constant of the estimate, written into the SQL as a double precision literal."""
    return literal_column(repr(float(value)), Float)


def _estimate(shape: Shape, job: SqlJob, row) -> ColumnElement[float]:
    """The score in thousandths as the database works it out from a ranked row: every
    component of `_values` but the programme's, in floating point and unrounded (`weigh`
    rounds each part half up, so a score exceeds this by at most half a thousandth per part,
    plus the programme's share). The distance is the haversine of `distance_in_reach`."""
    least = func.least if shape.postgres else func.min
    greatest = func.greatest if shape.postgres else func.max
    one, zero = _num(1), _num(0)

    def n(value):
        return func.coalesce(cast(value, Float), zero)

    half_lat = func.radians(cast(row.lat, Float) - job.lat) / _num(2)
    half_lon = func.radians(cast(row.lon, Float) - job.lon) / _num(2)
    haversine = func.sin(half_lat) * func.sin(half_lat) + bindparam(
        "cos_job_lat", type_=Float
    ) * func.cos(func.radians(cast(row.lat, Float))) * func.sin(half_lon) * func.sin(half_lon)
    distance = _num(2 * EARTH_RADIUS_KM) * func.asin(least(one, func.sqrt(haversine)))
    rating = (_num(RATING_PRIOR * RATING_PRIOR_COUNT) + n(row.rating_sum)) / (
        _num(RATING_PRIOR_COUNT) + n(row.rating_count)
    )
    accepted, declined = n(row.offers_accepted), n(row.offers_declined)
    completed, cancelled = n(row.jobs_completed), n(row.jobs_cancelled)
    response = cast(row.median_response_seconds, Float)
    values = (
        one - distance / n(row.service_radius_km),
        least(one, greatest(zero, (rating - one) / _num(4))),
        least(one, func.ln(one + n(row.done_in_category)) / _num(math.log1p(EXPERIENCE_FULL))),
        (accepted + _num(ACCEPTANCE_PRIOR * ACCEPTANCE_PRIOR_COUNT))
        / (accepted + declined + _num(ACCEPTANCE_PRIOR_COUNT)),
        one
        - (cancelled + _num(CANCELLATION_PRIOR * CANCELLATION_PRIOR_COUNT))
        / (completed + cancelled + _num(CANCELLATION_PRIOR_COUNT)),
        case(
            (response.is_(None), _num(0.5)),
            else_=one / (one + response / _num(RESPONSE_HALF_SECONDS)),
        ),
        greatest(zero, one - n(row.active_jobs) / n(row.max_concurrent_jobs)),
        greatest(zero, one - n(row.recent_earnings) / _num(FAIRNESS_FULL_MINOR)),
        least(one, n(row.level_rank) / _num(LEVEL_FULL)),
        None,  # the programme's share: in the slack (programmes answer in Python)
        case((row.favourite, one), else_=zero),
    )
    total = zero
    for weight, value in zip(_MILLI_WEIGHTS, values, strict=True):
        if value is not None:
            total = total + _num(weight) * value
    return total


@lru_cache(maxsize=128)
def _ranked_query(shape: Shape, excluding: bool, windowed: bool):
    """The bare prefilter with every ranking input alongside, computed by the database;
    `windowed`, only the best `:window` by the estimate of their score (`_estimate`), best
    first, with the estimate.

    History comes from the jobs table through ix_jobs_member_status, per prefiltered member
    (on PostgreSQL one LATERAL read gives both figures); the customer's favourites, a few
    rows, are joined once instead of looked up per member.
    """
    job = SqlJob(shape)
    eligible = prefilter_query(shape, excluding=excluding).subquery("eligible")
    done = aliased(Job)
    of_member = (done.assigned_member_id == eligible.c.id, done.status.in_(DONE_STATUSES))
    in_category = done.category_id == job.category_id
    recent = and_(done.completed_at >= job.since, done.currency == job.currency)
    favourites = (
        select(FavouriteMember.member_id)
        .where(FavouriteMember.customer_id == job.customer_id)
        .subquery("favourites")
    )
    history = None
    if shape.postgres:
        history = (
            select(
                func.count().filter(in_category).label("done_in_category"),
                # SUM of a bigint is numeric on PostgreSQL: back to whole minor units.
                cast(
                    func.coalesce(func.sum(done.price_amount).filter(recent), 0), BigInteger
                ).label("recent_earnings"),
            )
            .where(*of_member)
            .lateral("history")
        )
        done_in_category, recent_earnings = history.c.done_in_category, history.c.recent_earnings
    else:
        done_in_category = (
            select(func.count()).where(*of_member, in_category).scalar_subquery()
        ).label("done_in_category")
        recent_earnings = (
            select(cast(func.coalesce(func.sum(done.price_amount), 0), BigInteger))
            .where(*of_member, recent)
            .scalar_subquery()
        ).label("recent_earnings")
    query = (
        select(
            eligible,
            MemberStats.offers_accepted,
            MemberStats.offers_declined,
            MemberStats.jobs_completed,
            MemberStats.jobs_cancelled,
            MemberStats.rating_count,
            MemberStats.rating_sum,
            MemberStats.median_response_seconds,
            done_in_category,
            recent_earnings,
            favourites.c.member_id.is_not(None).label("favourite"),
        )
        .outerjoin(MemberStats, MemberStats.member_id == eligible.c.id)
        .outerjoin(favourites, favourites.c.member_id == eligible.c.id)
    )
    if history is not None:
        query = query.join(history, true())
    if not windowed:
        return query
    ranked = query.subquery("ranked")
    estimate = _estimate(shape, job, ranked.c).label("estimate")
    return (
        select(ranked, estimate)
        # Unknown estimates first: a window never ends before one of them.
        .order_by(estimate.desc().nulls_first(), ranked.c.id)
        .limit(bindparam("window", type_=Integer))
    )


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


# A limited ranking reads the best RANK_WINDOW members by the database's estimate (at least
# RANK_WINDOW_PER_WANTED per member asked for); the whole crowd only when that cannot prove
# enough of them best.
RANK_WINDOW, RANK_WINDOW_PER_WANTED = 200, 50
# Thousandths by which `weigh` may exceed the database's estimate: half of one per rounded
# part, and a margin for floating point arithmetic done in another order.
ROUNDING_SLACK = 0.5 * len(WEIGHTS) + 10


def _slack() -> float:
    """How far a member's score may lie above the database's estimate of it, in thousandths:
    the rounding, and the programme's whole weight while a programme can boost."""
    programme = _MILLI_WEIGHTS[_NAMES.index("programme")] if _PROGRAMMES else 0
    return ROUNDING_SLACK + programme


def rank(
    job: Job,
    *,
    limit: int | None = None,
    exclude_member_ids: Iterable[int] = (),
    now: datetime | None = None,
) -> list[Candidate]:
    """Eligible members for `job`, best first: prefilter, score, then keep who is available.

    A limited ranking does not score the whole crowd in Python: the database orders the
    eligible members by an estimate of their score (`_estimate`: every component but the
    programmes', which are asked here) and returns the best window of them, which are scored
    exactly (`_values`, `weigh`). A member scored above the last estimate of the window plus
    `_slack` cannot be outranked by anyone outside it, so those come out in the exact score's
    order (ties: nearer, then lower id) and availability is checked in it. Only when they are
    too few to fill `limit` is the whole crowd read and scored, as a full ranking is.
    """
    now = now or utcnow()
    facts = JobFacts.of(job)
    if not facts.windows or limit == 0:
        return []
    params, excluding = prefilter_params(facts, exclude_member_ids)
    params["since"] = now - timedelta(days=FAIRNESS_DAYS)
    if limit is not None:
        window = max(RANK_WINDOW, RANK_WINDOW_PER_WANTED * limit)
        params.update(window=window, cos_job_lat=math.cos(math.radians(facts.lat)))
        rows = db.session.execute(_ranked_query(facts.shape, excluding, True), params).all()
        if len(rows) < window:  # the whole crowd
            return _available(facts, iter(_scored(facts, rows)), limit, now)
        candidates = _available(facts, _proven(facts, rows, _slack()), limit, now)
        if len(candidates) >= limit:
            return candidates
    rows = read_all(facts.shape, excluding, params)
    return _available(facts, iter(_scored(facts, rows)), limit, now)


def read_all(shape: Shape, excluding: bool, params: dict) -> list:
    """Every eligible member with the ranking's inputs (a full ranking, or a window that
    proved too few)."""
    return db.session.execute(_ranked_query(shape, excluding, False), params).all()


def _proven(facts: JobFacts, rows, slack: float) -> Iterator[tuple]:
    """The window's members in the exact score's order, as far as it is proven, scoring only
    as many as that takes.

    `rows` come best estimate first, and no member from a row on (in the window or beyond it)
    scores above that row's estimate plus `slack`: a scored member above that is placed.
    """
    boosts = programme_boosts([row.id for row in rows])
    pool: list[tuple] = []  # heap of (-milli_score, distance, member_id, parts, row)
    for row in [*rows, None]:
        estimate = rows[-1].estimate if row is None else row.estimate
        ceiling = math.inf if estimate is None else estimate + slack
        while pool and -pool[0][0] > ceiling:
            yield heapq.heappop(pool)
        if row is None:
            return
        member_id, _, _, lat, lon, radius = row[:6]
        distance = distance_in_reach(facts, lat, lon, radius)
        if distance is None:
            continue
        milli_score, parts = weigh(_values(row, distance, boosts.get(member_id, 0.0)))
        heapq.heappush(pool, (-milli_score, distance, member_id, parts, row))


def _scored(facts: JobFacts, rows) -> list[tuple]:
    """(-milli_score, distance, member_id, parts, row) of the members in reach, best first."""
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
    return scored


def _available(facts: JobFacts, scored: Iterator[tuple], limit: int | None, now) -> list[Candidate]:
    """The scored members who are free in a job window, in their order, at most `limit`."""
    candidates: list[Candidate] = []
    # The score does not depend on the window, so availability — the costly check — is only
    # worked out for as many of the best as it takes to fill `limit`.
    while True:
        wanted = AVAILABILITY_BATCH if limit is None else limit - len(candidates)
        chunk = list(islice(scored, max(8, wanted * 3 // 2)))
        if not chunk:
            return candidates
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
