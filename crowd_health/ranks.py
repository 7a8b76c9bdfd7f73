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

from crowd.extensions import db
from crowd_health.seconds import seconds_between
from onboarding.models import LevelChange


def admissions(
    since: datetime,
    until: datetime,
    *,
    rank: int,
    where: Callable[[ColumnElement], ColumnElement[bool]],
    extra: Iterable[Callable[[ColumnElement], ColumnElement]] = (),
) -> Select:
    """Rows (days from admission to `rank` or None, *extra) of members admitted in
    [since, until): fractional days, computed by the database (a float is cheaper to read
    than two timestamps, at 100,000 members).

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
    days = seconds_between(reached.c.admitted_at, reached.c.reached_at) / 86400.0
    return select(days, *(column(reached.c.member_id) for column in extra))


def rank_times(query: Select) -> dict[tuple, dict]:
    """{(*extra): rank_time} of an `admissions` query, grouped by its extra columns; counted
    and the median taken by the database where it can (PostgreSQL), else read row by row."""
    rows = query.subquery()
    days, *keys = rows.c
    if db.session.get_bind().dialect.name != "postgresql":
        groups: dict[tuple, list] = {}
        for took, *key in db.session.execute(select(rows)):
            groups.setdefault(tuple(key), []).append((took,))
        return {key: rank_time(found) for key, found in groups.items()}
    median = func.percentile_cont(0.5).within_group(days)
    found = db.session.execute(
        select(*keys, func.count(), func.count(days), median).group_by(*keys)
    )
    return {
        tuple(key): {
            "admitted": admitted,
            "reached": reached,
            "median_days": round(float(middle), 2) if middle is not None else None,
        }
        for *key, admitted, reached, middle in found
    }


def rank_time(rows: Iterable[tuple[float | None, ...]]) -> dict:
    """{admitted, reached, median_days} over rows whose first value is the days to the rank
    (None: not reached)."""
    admitted = 0
    days = []
    for took, *_extra in rows:
        admitted += 1
        if took is not None:
            days.append(float(took))
    return {
        "admitted": admitted,
        "reached": len(days),
        "median_days": round(statistics.median(days), 2) if days else None,
    }
