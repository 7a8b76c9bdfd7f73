"""Programme health for community managers: figures over a period, straight from the tables.

- active_mentorships: mentorships active now (mentee in `country` when given).
- graduation: mentorships closed in the period — graduated (graduated_at in it) and ended
  (ended_at in it) — and the rate graduated / (graduated + ended); None when none closed.
- time_to_rank_2: members admitted in the period (their "approval" level change, in `country`),
  split into mentored (mentee of a mentorship that was accepted: accepted_at set, or active or
  graduated) and unmentored; per group how many were admitted, how many reached rank ≥ 2
  (their first such level change after admission) and the median days that took (fractional
  days; None when nobody reached it).
- top_performers: members with a valid badge now, per region and per category.
- events: events starting in the period (in `country`): invitations invited (sent), accepted
  (accepted, and what follows an acceptance: attended, no_show), declined, attended, no_show,
  and attendance_rate = attended / accepted (None without acceptances); also totals.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import case, func, or_, select, true

from crowd.core.auth import Principal
from crowd.core.db import utcnow
from crowd.core.periods import day_bounds
from crowd.extensions import db
from crowd_health.ranks import admissions, rank_time, rank_times
from members.models import Member, SkillCategory
from mentoring.models import Event, EventInvitation, Mentorship, TopPerformerBadge
from mentoring.top_performers.holders import valid_at

DEFAULT_DAYS = 90
MAX_DAYS = 3660
ACCEPTED = ("accepted", "attended", "no_show")


def _in_country(member_column, country: str | None):
    if country is None:
        return true()
    return member_column.in_(select(Member.id).where(Member.country == country))


def programme_health(
    *, actor: Principal, start: date | None = None, end: date | None = None, country=None
) -> dict:
    """Programme figures for [start, end] (whole UTC days; default the last 90 days)."""
    start, end, since, until = day_bounds(start, end, default_days=DEFAULT_DAYS, max_days=MAX_DAYS)
    return {
        "from": start,
        "to": end,
        "country": country,
        "active_mentorships": _active_mentorships(country),
        "graduation": _graduation(since, until, country),
        "time_to_rank_2": _time_to_rank_2(since, until, country),
        "top_performers": _top_performers(country),
        "events": _events(since, until, country),
    }


def _active_mentorships(country) -> int:
    return db.session.scalar(
        select(func.count()).where(
            Mentorship.status == "active", _in_country(Mentorship.mentee_id, country)
        )
    )


def _graduation(since, until, country) -> dict:
    m = Mentorship
    graduated = (m.status == "graduated") & (m.graduated_at >= since) & (m.graduated_at < until)
    ended = (m.status == "ended") & (m.ended_at >= since) & (m.ended_at < until)
    counts = db.session.execute(
        select(
            func.coalesce(func.sum(case((graduated, 1), else_=0)), 0),
            func.coalesce(func.sum(case((ended, 1), else_=0)), 0),
        ).where(_in_country(m.mentee_id, country))
    ).one()
    done, stopped = int(counts[0]), int(counts[1])
    return {
        "graduated": done,
        "ended": stopped,
        "rate": round(done / (done + stopped), 4) if done + stopped else None,
    }


def _time_to_rank_2(since, until, country) -> dict:
    # Members ever mentored, as a set the query hashes once (not a probe per admission).
    mentees = select(Mentorship.mentee_id).where(
        or_(Mentorship.accepted_at.is_not(None), Mentorship.status.in_(("active", "graduated")))
    )

    def mentored(member_id):
        return member_id.in_(mentees)

    query = admissions(
        since,
        until,
        rank=2,
        where=lambda member_id: _in_country(member_id, country),
        extra=[mentored],
    )
    times = rank_times(query)
    return {
        name: next((t for (m,), t in times.items() if bool(m) is flag), rank_time([]))
        for name, flag in (("mentored", True), ("unmentored", False))
    }


def _top_performers(country) -> dict:
    b = TopPerformerBadge
    held = valid_at(utcnow())
    if country is not None:
        held = held & (b.region == country)
    per_region = db.session.execute(
        select(b.region, func.count(func.distinct(b.member_id)))
        .where(held)
        .group_by(b.region)
        .order_by(b.region)
    ).all()
    per_category = db.session.execute(
        select(SkillCategory.slug, func.count(func.distinct(b.member_id)))
        .join(SkillCategory, SkillCategory.id == b.category_id)
        .where(held)
        .group_by(SkillCategory.slug)
        .order_by(SkillCategory.slug)
    ).all()
    total = db.session.scalar(select(func.count(func.distinct(b.member_id))).where(held))
    return {
        "members": total,
        "per_region": [{"region": r, "members": n} for r, n in per_region],
        "per_category": [{"category": c, "members": n} for c, n in per_category],
    }


def _events(since, until, country) -> dict:
    i = EventInvitation

    def count(condition):
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    query = (
        select(
            Event.id,
            Event.title,
            Event.starts_at,
            count(i.invited_at.is_not(None)),
            count(i.status.in_(ACCEPTED)),
            count(i.status == "declined"),
            count(i.status == "attended"),
            count(i.status == "no_show"),
        )
        .outerjoin(i, i.event_id == Event.id)
        .where(Event.starts_at >= since, Event.starts_at < until)
        .group_by(Event.id, Event.title, Event.starts_at)
        .order_by(Event.starts_at, Event.id)
    )
    if country is not None:
        query = query.where(Event.country == country)
    names = ("invited", "accepted", "declined", "attended", "no_show")
    items = []
    totals = dict.fromkeys(names, 0)
    for event_id, title, starts_at, *counts in db.session.execute(query):
        figures = dict(zip(names, (int(c) for c in counts), strict=True))
        for name in names:
            totals[name] += figures[name]
        items.append(
            {"event_id": event_id, "title": title, "starts_at": starts_at, **_rated(figures)}
        )
    return {"items": items, "total": _rated(totals)}


def _rated(figures: dict) -> dict:
    accepted = figures["accepted"]
    rate = round(figures["attended"] / accepted, 4) if accepted else None
    return {**figures, "attendance_rate": rate}
