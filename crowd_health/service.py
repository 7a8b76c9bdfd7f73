"""Crowd health for community managers: every figure is an aggregate over the records.

The period is [from, to] in whole UTC days (default: the last 90 days, `to` = today). Member
figures select members by the filters on their profile (country, postcode prefix, city:
case-insensitive) and their claimed skills (skill_id, or any skill of category_id); job
figures select jobs by the job's address and the job's skills (category_id: the job's
category). A *confirmed job* has a confirmation time (`jobs.confirmed_at`: the customer, the
system after the deadline, or a dispute settlement confirmed it) and was not cancelled since
(a dispute settled by cancelling the job undoes it). A member's *approval* is the decision
time of their approved application. Rates are rounded to 4 places, days and hours to 2;
a rate or median with nothing to measure is null.

- active_members: members whose status is `active` now. `per_region` groups them by country
  and postcode area (the first two characters of the postcode; null without one);
  `per_skill` lists the `top_skills` skills (of the filtered skill or category, if any) with
  the most of them, `skills` counts the skills that have any. `working`: those with at least
  one job confirmed in the period (any job of theirs); `working_rate` = working / total.
- active_over_time: the members active at the end of each week of the period (each month for
  periods longer than WEEKLY_DAYS days; the first and last bucket may be shorter), per region
  and per skill: "active" as above, read from the status history (the last change before the
  bucket's end; a member without one is not counted), for the members the filters select by
  their profile now. `periods`: each bucket's first and last day. `per_region`: per country;
  with a country filter, per postcode area within it. `per_skill`: the skills of
  `active_members.per_skill`, in that order. `members`: one count per period.
- activation: members approved in the period. `activated`: those with a confirmed job after
  their approval (by now); `rate` = activated / approved; `median_days` from approval to the
  first confirmed job. `in_window`: of the members approved at least `activation_days` ago
  (the `cohort`; younger approvals have not had the full window), how many had their first
  confirmed job within `activation_days` of approval, and the rate.
- retention: members approved in the period at least `retention_days` ago (the `cohort`)
  and their status `retention_days` after approval, read from the status history (the last
  change at or before that instant; `unknown` without one). `retained` = status active then;
  `rate` = retained / cohort. Members approved in the period but more recently are
  `too_recent` and not counted.
- level_progression: `per_level`: active members per level rank now (0: no level), named
  after the active rule set. `changes`: level changes in the period per target rank:
  promotions (to a higher rank, admission excluded) and demotions (to a lower rank); with
  totals and `admissions` (first level on approval). `time_to_rank_2`: members admitted in
  the period, how many reached rank 2 or higher and the median days that took.
- disputes (job figures): `jobs_completed`: jobs completed in the period (`completed_at`,
  whatever happened next); `jobs_disputed`: of those, the jobs with a dispute ticket (opened
  at any time); `rate` = jobs_disputed / jobs_completed. `opened`: dispute tickets opened in
  the period. `resolved`: dispute tickets resolved (or closed after resolution) whose last
  resolution falls in the period, and the hours from opening to that resolution: p50
  (median) and p90 (inclusive quantiles; a single value is both). `open_now`: dispute
  tickets neither resolved nor closed.
"""

from __future__ import annotations

import statistics
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import ColumnElement, case, func, literal, select

from crowd.core.auth import Principal
from crowd.core.db import utcnow
from crowd.core.periods import plus_days
from crowd.extensions import db
from crowd_health.config import HealthRules, health_rules
from crowd_health.ranks import admissions, rank_time, rank_times
from crowd_health.scope import Scope, staff_window
from crowd_health.seconds import seconds_between
from jobs.models import Job
from members.models import (
    MEMBER_STATUSES,
    Member,
    MemberSkill,
    MemberStatusChange,
    Skill,
    SkillCategory,
)
from onboarding.models import Application, Level, LevelChange, LevelRuleset
from support.models import Ticket, TicketEvent

SETTLED = ("resolved", "closed")
# Periods up to this many days are shown per week, longer ones per month.
WEEKLY_DAYS = 183


def crowd_health(
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
    """Crowd-health figures for [start, end] (whole UTC days) and the filters given."""
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
    rules = health_rules()
    now = utcnow()
    active = _active_members(scope, since, until, rules)
    return {
        "from": start,
        "to": end,
        "filters": scope.as_dict(),
        "active_members": active,
        "active_over_time": _active_over_time(
            scope, start, end, {s["skill_id"]: s["skill"] for s in active["per_skill"]}
        ),
        "activation": _activation(scope, since, until, now, rules),
        "retention": _retention(scope, since, until, now, rules),
        "level_progression": _level_progression(scope, since, until),
        "disputes": _disputes(scope, since, until),
    }


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _confirmed(job=Job) -> ColumnElement[bool]:
    return job.confirmed_at.is_not(None) & (job.status != "cancelled")


def _count(condition: ColumnElement[bool]):
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


# --- active members --------------------------------------------------------------------------


def _active_members(scope: Scope, since, until, rules: HealthRules) -> dict:
    active = [Member.status == "active", *scope.member_conditions()]
    total = db.session.scalar(select(func.count()).select_from(Member).where(*active))
    # The members of the jobs confirmed in the period (a range of jobs), not a probe per member.
    working = db.session.scalar(
        select(func.count(func.distinct(Job.assigned_member_id)))
        .join(Member, Member.id == Job.assigned_member_id)
        .where(_confirmed(), Job.confirmed_at >= since, Job.confirmed_at < until, *active)
    )
    area = func.substr(Member.postcode, 1, 2)
    per_region = db.session.execute(
        select(Member.country, area, func.count())
        .where(*active)
        .group_by(Member.country, area)
        .order_by(Member.country, area)
    ).all()
    return {
        "total": total,
        "working": working,
        "working_rate": _rate(working, total),
        "per_region": [{"country": c, "postcode_area": a, "members": n} for c, a, n in per_region],
        **_per_skill(scope, active, rules.top_skills),
    }


def _per_skill(scope: Scope, active, top: int) -> dict:
    query = (
        select(
            Skill.id.label("skill_id"),
            Skill.slug.label("skill"),
            SkillCategory.slug.label("category"),
            func.count(MemberSkill.member_id).label("members"),
        )
        .join(Member, Member.id == MemberSkill.member_id)
        .join(Skill, Skill.id == MemberSkill.skill_id)
        .join(SkillCategory, SkillCategory.id == Skill.category_id)
        .where(*active)
        .group_by(Skill.id, Skill.slug, SkillCategory.slug)
    )
    listed = scope.skill_condition(MemberSkill.skill_id)
    if listed is not None:
        query = query.where(listed)
    # Every skill's count in one pass (a catalogue's worth of rows); the top N read from it.
    rows = db.session.execute(query).mappings().all()
    ranked = sorted(rows, key=lambda row: (-row["members"], row["skill"]))
    return {"per_skill": [dict(row) for row in ranked[:top]], "skills": len(rows)}


# --- active members over time -------------------------------------------------------------


def periods(start: date, end: date) -> tuple[str, list[tuple[date, date]]]:
    """("week" or "month", the buckets' [first, last] days) covering [start, end]."""
    weekly = (end - start).days + 1 <= WEEKLY_DAYS
    buckets = []
    first = start
    while first <= end:
        if weekly:
            after = first + timedelta(days=7)
        else:
            after = date(first.year + first.month // 12, first.month % 12 + 1, 1)
        last = min(after - timedelta(days=1), end)
        buckets.append((first, last))
        first = last + timedelta(days=1)
    return ("week" if weekly else "month"), buckets


def _active_over_time(scope: Scope, start: date, end: date, slugs: dict[int, str]) -> dict:
    """`slugs`: the skills to follow, by id (in the order of the lines)."""
    skill_ids = list(slugs)
    bucket, spans = periods(start, end)
    ends = [datetime.combine(last + timedelta(days=1), time(), tzinfo=UTC) for _, last in spans]
    change = MemberStatusChange
    # Each status change as +1 (becomes active), -1 (stops being active) or 0, against the
    # member's previous change; a bucket's count is the sum of the changes before its end.
    is_active = case((change.to_status == "active", 1), else_=0)
    before = func.lag(is_active).over(
        partition_by=change.member_id, order_by=(change.created_at, change.id)
    )
    moves = (
        select(
            change.member_id.label("member_id"),
            change.created_at.label("at"),
            (is_active - func.coalesce(before, 0)).label("delta"),
        )
        .where(change.created_at < ends[-1])
        .subquery()
    )
    # The bucket a change counts from: the first whose end is after it (earlier ones: 0).
    index = case(*((moves.c.at < at, n) for n, at in enumerate(ends))).label("bucket")
    counted = [moves.c.delta != 0, *scope.member_conditions()]

    def series(*keys, join_skill=False) -> dict[tuple, list[int]]:
        query = select(index, *keys, func.sum(moves.c.delta)).join(
            Member, Member.id == moves.c.member_id
        )
        if join_skill:
            query = query.join(MemberSkill, MemberSkill.member_id == Member.id).where(
                MemberSkill.skill_id.in_(skill_ids)
            )
        rows = db.session.execute(query.where(*counted).group_by(index, *keys)).all()
        found: dict[tuple, list[int]] = {}
        for n, *key, delta in rows:
            found.setdefault(tuple(key), [0] * len(spans))[n] += int(delta)
        for counts in found.values():
            for n in range(1, len(counts)):
                counts[n] += counts[n - 1]
        # A region whose members were never active in the period has no line.
        return {key: counts for key, counts in found.items() if any(counts)}

    if scope.country is None:
        regions = series(Member.country)
        per_region = [
            {"country": country, "postcode_area": None, "members": counts}
            for (country,), counts in sorted(regions.items(), key=lambda item: item[0][0] or "")
        ]
    else:
        area = func.substr(Member.postcode, 1, 2)
        regions = series(Member.country, area)
        per_region = [
            {"country": country, "postcode_area": code, "members": counts}
            for (country, code), counts in sorted(
                regions.items(), key=lambda item: (item[0][0] or "", item[0][1] or "")
            )
        ]
    skills = series(MemberSkill.skill_id, join_skill=True) if skill_ids else {}
    return {
        "bucket": bucket,
        "periods": [{"first": first, "last": last} for first, last in spans],
        "per_region": per_region,
        "per_skill": [
            {
                "skill_id": skill,
                "skill": slugs[skill],
                "members": skills.get((skill,), [0] * len(spans)),
            }
            for skill in skill_ids
        ],
    }


# --- activation and retention ----------------------------------------------------------------


def _approvals(scope: Scope, since, until):
    """Members approved in [since, until) the filters select, with their approval time."""
    first = (
        select(
            Application.member_id.label("member_id"),
            func.min(Application.decided_at).label("approved_at"),
        )
        .where(Application.status == "approved")
        .group_by(Application.member_id)
        .subquery()
    )
    return first, [
        first.c.approved_at >= since,
        first.c.approved_at < until,
        scope.of_member(first.c.member_id),
    ]


def _activation(scope: Scope, since, until, now: datetime, rules: HealthRules) -> dict:
    approved, in_period = _approvals(scope, since, until)
    # Each approval with its first confirmed job after it: one grouped join, not a probe each.
    first_job = func.min(Job.confirmed_at)
    query = (
        select(approved.c.approved_at, first_job)
        .outerjoin(
            Job,
            (Job.assigned_member_id == approved.c.member_id)
            & _confirmed()
            & (Job.confirmed_at >= approved.c.approved_at),
        )
        .where(*in_period)
        .group_by(approved.c.member_id, approved.c.approved_at)
    )
    firsts = query.subquery()
    approved_at, first = firsts.c.approved_at, firsts.c[1]
    window = timedelta(days=rules.activation_days)
    old_enough = approved_at <= now - window
    in_window = old_enough & first.is_not(None) & (first <= plus_days(approved_at, window.days))
    days = seconds_between(approved_at, first) / 86400.0
    counts = [func.count(), func.count(first), _count(old_enough), _count(in_window)]
    # The median in the same pass where the database has it; else from the days themselves.
    postgres = db.session.get_bind().dialect.name == "postgresql"
    if postgres:
        counts.append(func.percentile_cont(0.5).within_group(days))
    total, activated, cohort, in_time, *median = db.session.execute(select(*counts)).one()
    if not postgres:
        values = [d for d in db.session.scalars(select(days).where(first.is_not(None)))]
        median = [statistics.median(values) if values else None]
    return {
        "approved": total,
        "activated": activated,
        "rate": _rate(activated, total),
        "median_days": round(float(median[0]), 2) if median[0] is not None else None,
        "in_window": {
            "days": rules.activation_days,
            "cohort": int(cohort),
            "activated": int(in_time),
            "rate": _rate(int(in_time), int(cohort)),
        },
    }


def _retention(scope: Scope, since, until, now: datetime, rules: HealthRules) -> dict:
    approved, in_period = _approvals(scope, since, until)
    change = MemberStatusChange
    status_then = (
        select(change.to_status)
        .where(
            change.member_id == approved.c.member_id,
            change.created_at <= plus_days(approved.c.approved_at, rules.retention_days),
        )
        .order_by(change.created_at.desc(), change.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    old_enough = approved.c.approved_at <= now - timedelta(days=rules.retention_days)
    state = case(
        (~old_enough, literal("too_recent")), else_=func.coalesce(status_then, literal("unknown"))
    ).label("state")
    states = select(state).where(*in_period).subquery()
    counts = dict(
        db.session.execute(select(states.c.state, func.count()).group_by(states.c.state)).all()
    )
    too_recent = counts.pop("too_recent", 0)
    by_status = {status: counts.get(status, 0) for status in (*MEMBER_STATUSES, "unknown")}
    cohort = sum(by_status.values())
    return {
        "days": rules.retention_days,
        "cohort": cohort,
        "retained": by_status["active"],
        "rate": _rate(by_status["active"], cohort),
        "too_recent": too_recent,
        "by_status": by_status,
    }


# --- levels ----------------------------------------------------------------------------------


def _level_progression(scope: Scope, since, until) -> dict:
    active_ruleset = select(LevelRuleset.id).where(LevelRuleset.status == "active")
    level = (Level.rank == Member.level_rank) & Level.ruleset_id.in_(active_ruleset)
    per_level = db.session.execute(
        select(Member.level_rank, Level.code, Level.name, func.count(Member.id))
        .outerjoin(Level, level)
        .where(Member.status == "active", *scope.member_conditions())
        .group_by(Member.level_rank, Level.code, Level.name)
        .order_by(Member.level_rank)
    ).all()
    change = LevelChange
    admission = change.cause == "approval"
    up = (change.to_rank > change.from_rank) & ~admission
    down = change.to_rank < change.from_rank
    in_period = [
        change.created_at >= since,
        change.created_at < until,
        scope.of_member(change.member_id),
    ]
    per_rank = db.session.execute(
        select(change.to_rank, _count(up), _count(down))
        .where(*in_period, up | down)
        .group_by(change.to_rank)
        .order_by(change.to_rank)
    ).all()
    admitted = db.session.scalar(select(func.count()).where(*in_period, admission))
    changes = [{"rank": rank, "promotions": int(p), "demotions": int(d)} for rank, p, d in per_rank]
    times = rank_times(admissions(since, until, rank=2, where=scope.of_member))
    return {
        "per_level": [
            {"rank": rank, "code": code, "name": name, "members": n}
            for rank, code, name, n in per_level
        ],
        "changes": changes,
        "promotions": sum(c["promotions"] for c in changes),
        "demotions": sum(c["demotions"] for c in changes),
        "admissions": admitted,
        "time_to_rank_2": times.get((), rank_time([])),
    }


# --- disputes --------------------------------------------------------------------------------


def _disputes(scope: Scope, since, until) -> dict:
    jobs = scope.job_conditions()
    completed_in_period = [Job.completed_at >= since, Job.completed_at < until, *jobs]
    completed = db.session.scalar(select(func.count()).select_from(Job).where(*completed_in_period))
    # From the (few) dispute tickets to their jobs, not a probe per completed job.
    with_dispute = db.session.scalar(
        select(func.count(func.distinct(Ticket.job_id)))
        .join(Job, Job.id == Ticket.job_id)
        .where(Ticket.dispute.is_(True), *completed_in_period)
    )
    disputes = [Ticket.dispute.is_(True)]
    if jobs:
        disputes.append(Ticket.job_id.in_(select(Job.id).where(*jobs)))
    opened = db.session.scalar(
        select(func.count()).where(*disputes, Ticket.created_at >= since, Ticket.created_at < until)
    )
    open_now = db.session.scalar(
        select(func.count()).where(*disputes, Ticket.status.not_in(SETTLED))
    )
    # The last move into `resolved` (a reply may have reopened an earlier resolution).
    resolution = (
        select(func.max(TicketEvent.created_at))
        .where(
            TicketEvent.ticket_id == Ticket.id,
            TicketEvent.to_status == "resolved",
            TicketEvent.from_status != "resolved",
        )
        .scalar_subquery()
    )
    settled = (
        select(Ticket.created_at.label("opened_at"), resolution.label("resolved_at"))
        .where(*disputes, Ticket.status.in_(SETTLED))
        .subquery()
    )
    rows = db.session.execute(
        select(settled.c.opened_at, settled.c.resolved_at).where(
            settled.c.resolved_at >= since, settled.c.resolved_at < until
        )
    ).all()
    hours = sorted((resolved - opened).total_seconds() / 3600 for opened, resolved in rows)
    return {
        "jobs_completed": completed,
        "jobs_disputed": with_dispute,
        "rate": _rate(with_dispute, completed),
        "opened": opened,
        "resolved": len(hours),
        "resolution_hours": {"p50": _quantile(hours, 50), "p90": _quantile(hours, 90)},
        "open_now": open_now,
    }


def _quantile(values: list[float], percent: int) -> float | None:
    if not values:
        return None
    if len(values) == 1:
        return round(values[0], 2)
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return round(cuts[percent - 1], 2)
