"""The recruitment funnel per source (and per channel), for community managers.

Cohort: members whose FIRST application (number 1) was opened in [from, to] — whole UTC days,
default the last 90, at most 3660 — optionally only those in `country` (the member's profile),
of one `source` or one `channel_id` (the first application's; re-applications keep them).
For each member of the cohort, each step is counted on its own:
    applied                1 (everyone in the cohort)
    passed_skill_test      at least one skill test attempt passed
    approved               at least one application approved (by now)
    first_job              at least one job assigned to them confirmed (confirmed_at set)
    active_after_90_days   approved at least 90 days ago (their first approval) and their
                           status exactly 90 days after that approval was `active`: the
                           to_status of their last member_status_changes row at or before that
                           moment (paused, suspended or offboarded then: not counted). Members
                           approved less than 90 days ago do not count (yet).
Conversion is step to step — passed_skill_test / applied, approved / passed_skill_test,
first_job / approved, active_after_90_days / first_job — rounded to 4 places, None when the
base is 0. Steps are not nested (a skill without a test needs none, so approved may exceed
passed_skill_test), hence a rate can be above 1.
Per source always all five sources (or the one asked for); within event, partner and campaign
also per channel. One aggregate query (each step a set joined once), grouped by source and
channel, plus one for the channels' names.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import aliased

from crowd.core.auth import Principal
from crowd.core.db import utcnow
from crowd.core.errors import Unprocessable
from crowd.core.periods import day_bounds, plus_days
from crowd.extensions import db
from jobs.models import Job
from members.models import Member, MemberStatusChange
from onboarding.models import Application, SkillTestAttempt
from recruitment.codes import require_staff
from recruitment.models import CHANNEL_KINDS, SOURCE_KINDS, RecruitmentChannel

DEFAULT_DAYS = 90
MAX_DAYS = 3660
RETENTION_DAYS = 90
STEPS = ("applied", "passed_skill_test", "approved", "first_job", "active_after_90_days")


def _query_error(field: str, message: str) -> Unprocessable:
    return Unprocessable(f"{field}: {message}", errors={"query": {field: [message]}})


def _per_member(since, until, country, source, channel_id):
    """One row per cohort member: source, channel and each step's figure."""
    first = aliased(Application)
    # Each step as a set the query builds once (hashed), not a probe per cohort member.
    passed = Member.id.in_(
        select(SkillTestAttempt.member_id).where(SkillTestAttempt.passed.is_(True))
    )
    approvals = (
        select(
            Application.member_id.label("member_id"),
            func.min(Application.decided_at).label("approved_at"),
        )
        .where(Application.status == "approved")
        .group_by(Application.member_id)
        .subquery("approvals")
    )
    approved_at = approvals.c.approved_at
    first_job = Member.id.in_(
        select(Job.assigned_member_id).where(
            Job.assigned_member_id.is_not(None), Job.confirmed_at.is_not(None)
        )
    )
    query = (
        select(
            Member.id.label("member_id"),
            first.source.label("source"),
            first.channel_id.label("channel_id"),
            passed.label("passed"),
            approved_at.label("approved_at"),
            first_job.label("first_job"),
        )
        .join(first, and_(first.member_id == Member.id, first.number == 1))
        .outerjoin(approvals, approvals.c.member_id == Member.id)
        .where(first.opened_at >= since, first.opened_at < until)
    )
    if country is not None:
        query = query.where(Member.country == country)
    if source is not None:
        query = query.where(first.source == source)
    if channel_id is not None:
        query = query.where(first.channel_id == channel_id)
    return query.subquery("cohort")


def _counts(since, until, country, source, channel_id) -> dict[tuple[str, int | None], dict]:
    cohort = _per_member(since, until, country, source, channel_id)
    change = MemberStatusChange
    status_then = (
        select(change.to_status)
        .where(
            change.member_id == cohort.c.member_id,
            change.created_at <= plus_days(cohort.c.approved_at, RETENTION_DAYS),
        )
        .order_by(change.created_at.desc(), change.id.desc())
        .limit(1)
        .correlate(cohort)
        .scalar_subquery()
    )
    retained = and_(
        cohort.c.approved_at.is_not(None),
        cohort.c.approved_at <= utcnow() - timedelta(days=RETENTION_DAYS),
        status_then == "active",
    )

    def total(condition):
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    rows = db.session.execute(
        select(
            cohort.c.source,
            cohort.c.channel_id,
            func.count(),
            total(cohort.c.passed),
            total(cohort.c.approved_at.is_not(None)),
            total(cohort.c.first_job),
            total(retained),
        ).group_by(cohort.c.source, cohort.c.channel_id)
    )
    return {
        (row[0], row[1]): dict(zip(STEPS, (int(value) for value in row[2:]), strict=True))
        for row in rows
    }


def _with_rates(counts: dict) -> dict:
    conversion = {}
    for before, after in zip(STEPS, STEPS[1:], strict=False):
        base = counts[before]
        conversion[after] = round(counts[after] / base, 4) if base else None
    return {**counts, "conversion": conversion}


def _add(into: dict, counts: dict) -> None:
    for step in STEPS:
        into[step] += counts[step]


def funnel(
    *,
    actor: Principal,
    start: date | None = None,
    end: date | None = None,
    country: str | None = None,
    source: str | None = None,
    channel_id: int | None = None,
) -> dict:
    """The funnel of the cohort that first applied in [start, end], per source and channel."""
    require_staff(actor)
    start, end, since, until = day_bounds(start, end, default_days=DEFAULT_DAYS, max_days=MAX_DAYS)
    if channel_id is not None and db.session.get(RecruitmentChannel, channel_id) is None:
        raise _query_error("channel_id", "no such recruitment channel")
    counts = _counts(since, until, country, source, channel_id)
    channel_ids = {cid for (_, cid) in counts if cid is not None}
    channels = {
        channel.id: channel
        for channel in db.session.scalars(
            select(RecruitmentChannel).where(RecruitmentChannel.id.in_(channel_ids))
        )
    }
    grand = dict.fromkeys(STEPS, 0)
    sources = []
    for kind in (source,) if source else SOURCE_KINDS:
        per_source = dict.fromkeys(STEPS, 0)
        per_channel = []
        for (row_source, cid), figures in sorted(counts.items(), key=lambda i: i[0][1] or 0):
            if row_source != kind:
                continue
            _add(per_source, figures)
            if kind in CHANNEL_KINDS and cid is not None:
                channel = channels[cid]
                per_channel.append(
                    {
                        "channel_id": cid,
                        "code": channel.code,
                        "name": channel.name,
                        "kind": channel.kind,
                        **_with_rates(figures),
                    }
                )
        _add(grand, per_source)
        entry = {"source": kind, **_with_rates(per_source)}
        if kind in CHANNEL_KINDS:
            entry["channels"] = per_channel
        sources.append(entry)
    return {
        "from": start,
        "to": end,
        "country": country,
        "source": source,
        "channel_id": channel_id,
        "sources": sources,
        "total": _with_rates(grand),
    }
