"""Time from admission to a level rank, shared by crowd health and programme health.

A member's admission is their level change with cause "approval"; they reached `rank` with
their first later level change to that rank or higher. Times are fractional days.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Iterable
from datetime import datetime

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.orm import aliased

from onboarding.models import LevelChange


def admissions(
    since: datetime,
    until: datetime,
    *,
    rank: int,
    where: Callable[[ColumnElement], ColumnElement[bool]],
    extra: Iterable[Callable[[ColumnElement], ColumnElement]] = (),
) -> Select:
    """Rows (admitted_at, reached_at or None, *extra) of members admitted in [since, until).

    `where` and each of `extra` get the admitted member's id column: a filter on the members,
    and further columns per member (e.g. whether they were mentored).
    """
    admission = aliased(LevelChange)
    later = aliased(LevelChange)
    # Each admission with its first later change to `rank` or higher: one grouped join (the
    # later changes to that rank are few), not a probe per admission.
    reached = (
        select(
            admission.member_id.label("member_id"),
            admission.created_at.label("admitted_at"),
            func.min(later.created_at).label("reached_at"),
        )
        .outerjoin(
            later,
            (later.member_id == admission.member_id)
            & (later.to_rank >= rank)
            & (later.created_at >= admission.created_at)
            & (later.id != admission.id),
        )
        .where(
            admission.cause == "approval",
            admission.created_at >= since,
            admission.created_at < until,
            where(admission.member_id),
        )
        .group_by(admission.id, admission.member_id, admission.created_at)
        .subquery()
    )
    return select(
        reached.c.admitted_at,
        reached.c.reached_at,
        *(column(reached.c.member_id) for column in extra),
    )


def rank_time(rows: Iterable[tuple[datetime, datetime | None]]) -> dict:
    """{admitted, reached, median_days} over (admitted_at, reached_at) pairs."""
    admitted = 0
    days = []
    for admitted_at, reached_at in rows:
        admitted += 1
        if reached_at is not None:
            days.append((reached_at - admitted_at).total_seconds() / 86400)
    return {
        "admitted": admitted,
        "reached": len(days),
        "median_days": round(statistics.median(days), 2) if days else None,
    }
