"""Who may mentor: level, rating over enough reviews, active status, no open dispute.

The criteria are SQL expressions over `members` (outer-joined to `member_stats`), so the same
rules decide for one member (the explanation the member sees), for the candidates of an
assignment (one query) and for the daily review of every mentor (set-based).
Thresholds come from ProgrammeRules (mentor_min_level, mentor_min_rating_milli,
mentor_min_ratings); the rating is compared exactly in integers:
rating_sum × 1000 ≥ mentor_min_rating_milli × rating_count.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import and_, exists, func, select
from sqlalchemy.sql import ColumnElement

from crowd.extensions import db
from jobs.models import Job
from members.models import Member, MemberStats
from mentoring.config import ProgrammeRules, programme_rules
from support.models import Ticket

# A dispute ticket still being worked on (resolved and closed ones are settled).
SETTLED_TICKET_STATUSES = ("resolved", "closed")


def _open_dispute() -> ColumnElement[bool]:
    disputed_job = exists().where(Job.assigned_member_id == Member.id, Job.status == "disputed")
    open_ticket = exists().where(
        Ticket.member_id == Member.id,
        Ticket.dispute.is_(True),
        Ticket.status.not_in(SETTLED_TICKET_STATUSES),
    )
    return disputed_job | open_ticket


def criteria(rules: ProgrammeRules) -> dict[str, ColumnElement[bool]]:
    """Each criterion as a condition over Member outer-joined with MemberStats."""
    count = func.coalesce(MemberStats.rating_count, 0)
    total = func.coalesce(MemberStats.rating_sum, 0)
    return {
        "status": Member.status == "active",
        "level": Member.level_rank >= rules.mentor_min_level,
        "ratings": count >= rules.mentor_min_ratings,
        "rating": and_(count > 0, total * 1000 >= rules.mentor_min_rating_milli * count),
        "no_open_dispute": ~_open_dispute(),
    }


def eligible_condition(rules: ProgrammeRules | None = None) -> ColumnElement[bool]:
    """All criteria at once (join MemberStats with an outer join on Member.id)."""
    return and_(*criteria(rules or programme_rules()).values())


def eligible_member_ids(member_ids: Iterable[int] | None = None) -> set[int]:
    """The members (of `member_ids`, or all) who meet every criterion now: one query."""
    query = (
        select(Member.id)
        .outerjoin(MemberStats, MemberStats.member_id == Member.id)
        .where(eligible_condition())
    )
    if member_ids is not None:
        query = query.where(Member.id.in_(list(member_ids)))
    return set(db.session.scalars(query))


@dataclass(frozen=True)
class Criterion:
    name: str
    met: bool
    required: str
    actual: str


def explain(member: Member) -> list[Criterion]:
    """Each criterion for one member: met or not, what it needs, where the member stands."""
    rules = programme_rules()
    conditions = criteria(rules)
    row = db.session.execute(
        select(
            func.coalesce(MemberStats.rating_count, 0),
            func.coalesce(MemberStats.rating_sum, 0),
            *[condition.label(name) for name, condition in conditions.items()],
        )
        .select_from(Member)
        .outerjoin(MemberStats, MemberStats.member_id == Member.id)
        .where(Member.id == member.id)
    ).one()
    count, total = row[0], row[1]
    met = {name: bool(getattr(row, name)) for name in conditions}
    average = f"{total / count:.2f}" if count else "no ratings"
    return [
        Criterion("status", met["status"], "active", member.status),
        Criterion(
            "level", met["level"], f"rank ≥ {rules.mentor_min_level}", str(member.level_rank)
        ),
        Criterion("ratings", met["ratings"], f"≥ {rules.mentor_min_ratings} ratings", str(count)),
        Criterion(
            "rating",
            met["rating"],
            f"average ≥ {rules.mentor_min_rating_milli / 1000:.2f}",
            average,
        ),
        Criterion(
            "no_open_dispute",
            met["no_open_dispute"],
            "no disputed job, no open dispute ticket",
            "none" if met["no_open_dispute"] else "an open dispute",
        ),
    ]
