"""Service figures for community managers: how fast and how well the crowd serves customers.

Same period ([from, to], whole UTC days, default the last 90) and filters as crowd health
(crowd_health.scope: the job's place and skill or category). *Posted jobs* are the jobs
created in the period that the filters select. Durations are computed in SQL and the
quantiles read from the sorted values (inclusive quantiles, as `statistics.quantiles(...,
method="inclusive")`: a single value is both p50 and p90); minutes and hours are rounded to 2
places, rates to 4, averages to 2; a figure with nothing to measure is null.

- first_offer: posted jobs that got an offer, and minutes from posting to the first offer
  sent (any wave): p50 and p90.
- fill_rate: posted jobs assigned (`assigned_at`: the latest assignment) within 1 hour and
  within 24 hours of posting. Each window counts only the jobs posted at least that long ago
  (`jobs`), so recent posts do not drag the rate down; rate = filled / jobs.
- escalation: posted jobs, of them escalated to staff (`escalated_at` set), and the share.
- ratings: customers' reviews (stars 1–5) written in the period about jobs the filters
  select: count and average; per region (the job's country and postcode area, the first two
  characters of the postcode) and per skill the job needed (a job needing two skills counts
  for both).
- sla: tickets opened in the period (about a job the filters select, when a job filter is
  given): for the first response and for the resolution, the tickets whose clock is decided
  (`due`: answered/resolved, or the deadline has passed), and of them `met` (answered/resolved
  before the deadline and never marked breached); rate = met / due.
- satisfaction: ratings (1–5) the parties gave tickets in the period (same ticket selection):
  count, average, count per score and average per party (customer, member).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import ColumnElement, and_, case, func, or_, select

from crowd.core.auth import Principal
from crowd.core.db import utcnow
from crowd.extensions import db
from crowd_health.scope import Scope, staff_window
from crowd_health.seconds import seconds_between
from jobs.models import Job, JobSkill, Offer, Review
from members.models import Skill
from support.models import Ticket, TicketRating

FILL_WINDOWS = (("within_1h", timedelta(hours=1)), ("within_24h", timedelta(hours=24)))
SCORES = (1, 2, 3, 4, 5)
PARTIES = ("customer", "member")


def service_figures(
    *,
    actor: Principal,
    start: date | None = None,
    end: date | None = None,
    country: str | None = None,
    postcode_prefix: str | None = None,
    city: str | None = None,
    skill_id: int | None = None,
    category_id: int | None = None,
) -> dict:
    """Service figures for [start, end] (whole UTC days) and the filters given."""
    start, end, since, until, scope = staff_window(
        actor,
        start,
        end,
        country=country,
        postcode_prefix=postcode_prefix,
        city=city,
        skill_id=skill_id,
        category_id=category_id,
    )
    posted = [Job.created_at >= since, Job.created_at < until, *scope.job_conditions()]
    tickets = _tickets(scope)
    return {
        "from": start,
        "to": end,
        "filters": scope.as_dict(),
        "first_offer": _first_offer(posted),
        "fill_rate": _fill_rate(posted, utcnow()),
        "escalation": _escalation(posted),
        "ratings": _ratings(scope, since, until),
        "sla": _sla([Ticket.created_at >= since, Ticket.created_at < until, *tickets], utcnow()),
        "satisfaction": _satisfaction(tickets, since, until),
    }


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _count(condition: ColumnElement[bool]):
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _quantiles(values, percents: tuple[int, ...], scale: float) -> tuple[int, dict]:
    """(count, inclusive quantiles) of the one-column subquery `values`, read in SQL: on
    PostgreSQL with percentile_cont, elsewhere the count, then only the (at most two) sorted
    values each quantile lies between."""
    if db.session.get_bind().dialect.name == "postgresql":
        # The same inclusive (linear) quantiles, in one pass.
        column = values.c.value
        count, *found = db.session.execute(
            select(
                func.count(),
                *(func.percentile_cont(p / 100).within_group(column) for p in percents),
            )
        ).one()
        return count, {
            f"p{p}": (round(float(v) / scale, 2) if v is not None else None)
            for p, v in zip(percents, found, strict=True)
        }
    count = db.session.scalar(select(func.count()).select_from(values))
    if not count:
        return 0, {f"p{p}": None for p in percents}
    column = values.c.value
    ranked = select(column, func.row_number().over(order_by=column).label("position")).subquery()
    spots = {p: (count - 1) * p / 100 for p in percents}
    wanted = sorted({pos for h in spots.values() for pos in (int(h), min(int(h) + 1, count - 1))})
    found = dict(
        db.session.execute(
            select(ranked.c.position - 1, ranked.c.value).where(
                ranked.c.position.in_([w + 1 for w in wanted])
            )
        ).all()
    )
    result = {}
    for percent, spot in spots.items():
        low = int(spot)
        high = min(low + 1, count - 1)
        value = found[low] + (found[high] - found[low]) * (spot - low)
        result[f"p{percent}"] = round(value / scale, 2)
    return count, result


# --- jobs ----------------------------------------------------------------------------------


def _first_offer(posted: list) -> dict:
    # The jobs posted in the period (a range of jobs) with their first offer: grouped per job.
    values = (
        select(seconds_between(Job.created_at, func.min(Offer.sent_at)).label("value"))
        .join(Offer, Offer.job_id == Job.id)
        .where(*posted)
        .group_by(Job.id, Job.created_at)
        .subquery()
    )
    jobs, figures = _quantiles(values, (50, 90), scale=60)
    return {"jobs": jobs, "minutes": figures}


def _fill_rate(posted: list, now: datetime) -> dict:
    waited = seconds_between(Job.created_at, Job.assigned_at)
    columns = []
    for _name, window in FILL_WINDOWS:
        old_enough = Job.created_at <= now - window
        columns += [
            _count(old_enough),
            _count(old_enough & Job.assigned_at.is_not(None) & (waited <= window.total_seconds())),
        ]
    total, *counts = db.session.execute(select(func.count(), *columns).where(*posted)).one()
    figures = {"posted": total}
    for index, (name, window) in enumerate(FILL_WINDOWS):
        jobs, filled = int(counts[2 * index]), int(counts[2 * index + 1])
        figures[name] = {
            "hours": int(window.total_seconds() // 3600),
            "jobs": jobs,
            "filled": filled,
            "rate": _rate(filled, jobs),
        }
    return figures


def _escalation(posted: list) -> dict:
    total, escalated = db.session.execute(
        select(func.count(), _count(Job.escalated_at.is_not(None))).where(*posted)
    ).one()
    return {"posted": total, "escalated": int(escalated), "rate": _rate(int(escalated), total)}


def _ratings(scope: Scope, since, until) -> dict:
    reviewed = [
        Review.author == "customer",
        Review.created_at >= since,
        Review.created_at < until,
        *scope.job_conditions(),
    ]

    def summary(*keys, join_skill=False):
        query = select(*keys, func.count(Review.id), func.avg(Review.stars)).join(
            Job, Job.id == Review.job_id
        )
        if join_skill:
            query = query.join(JobSkill, JobSkill.job_id == Job.id).join(
                Skill, Skill.id == JobSkill.skill_id
            )
            listed = scope.skill_condition(JobSkill.skill_id)
            if listed is not None:
                query = query.where(listed)
        query = query.where(*reviewed)
        if keys:
            query = query.group_by(*keys).order_by(*keys)
        return db.session.execute(query).all()

    def average(value) -> float | None:
        return round(float(value), 2) if value is not None else None

    (count, overall), *_ = summary()
    area = func.substr(Job.postcode, 1, 2)
    per_region = summary(Job.country, area)
    per_skill = summary(Skill.id, Skill.slug, join_skill=True)
    return {
        "reviews": count,
        "average": average(overall),
        "per_region": [
            {"country": c, "postcode_area": a, "reviews": n, "average": average(avg)}
            for c, a, n, avg in per_region
        ],
        "per_skill": [
            {"skill_id": i, "skill": slug, "reviews": n, "average": average(avg)}
            for i, slug, n, avg in per_skill
        ],
    }


# --- tickets -------------------------------------------------------------------------------


def _tickets(scope: Scope) -> list:
    """Tickets about jobs the filters select (no condition without a job filter)."""
    jobs = scope.job_conditions()
    return [Ticket.job_id.in_(select(Job.id).where(*jobs))] if jobs else []


def _sla(tickets: list, now: datetime) -> dict:
    t = Ticket
    first_due = t.first_response_at.is_not(None) | (t.first_response_due_at <= now)
    first_met = and_(
        t.first_response_at.is_not(None),
        t.first_response_at < t.first_response_due_at,
        t.first_response_breached_at.is_(None),
    )
    resolution_due = or_(t.resolved_at.is_not(None), t.resolution_due_at <= now)
    resolution_met = and_(
        t.resolved_at.is_not(None),
        t.resolved_at < t.resolution_due_at,
        t.resolution_breached_at.is_(None),
    )
    opened, *counts = db.session.execute(
        select(
            func.count(),
            _count(first_due),
            _count(first_met),
            _count(resolution_due),
            _count(resolution_met),
        ).where(*tickets)
    ).one()
    first_n, first_ok, resolution_n, resolution_ok = (int(c) for c in counts)
    return {
        "opened": opened,
        "first_response": {"due": first_n, "met": first_ok, "rate": _rate(first_ok, first_n)},
        "resolution": {
            "due": resolution_n,
            "met": resolution_ok,
            "rate": _rate(resolution_ok, resolution_n),
        },
    }


def _satisfaction(tickets: list, since, until) -> dict:
    r = TicketRating
    rated = [r.created_at >= since, r.created_at < until]
    if tickets:
        rated.append(r.ticket_id.in_(select(Ticket.id).where(*tickets)))
    per_score = dict(
        db.session.execute(select(r.score, func.count()).where(*rated).group_by(r.score)).all()
    )
    per_party = {
        party: (n, avg)
        for party, n, avg in db.session.execute(
            select(r.party, func.count(), func.avg(r.score)).where(*rated).group_by(r.party)
        )
    }
    count = sum(per_score.values())
    total = sum(score * n for score, n in per_score.items())
    return {
        "ratings": count,
        "average": round(total / count, 2) if count else None,
        "per_score": [{"score": s, "ratings": per_score.get(s, 0)} for s in SCORES],
        "per_party": [
            {
                "party": party,
                "ratings": per_party.get(party, (0, None))[0],
                "average": (round(float(per_party[party][1]), 2) if party in per_party else None),
            }
            for party in PARTIES
        ],
    }
