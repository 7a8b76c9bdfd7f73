"""Reporting periods of whole UTC days, and day arithmetic on timestamps inside SQL."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import Integer, literal_column
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from crowd.core.db import UTCDateTime, utcnow
from crowd.core.errors import Unprocessable


def day_bounds(
    start: date | None, end: date | None, *, default_days: int = 90, max_days: int = 3660
) -> tuple[date, date, datetime, datetime]:
    """[start, end] as days and as the instants [since, until); else 422 naming `from` or `to`.

    `end` defaults to today (UTC), `start` to `default_days` days up to and including `end`.
    """
    end = end or utcnow().date()
    if end >= date.max:
        raise _error("to", "must be before the last representable day")
    if start is None:
        if end - date.min < timedelta(days=default_days):
            raise _error("to", f"leaves no room for the default period of {default_days} days")
        start = end - timedelta(days=default_days - 1)
    if start > end:
        raise _error("from", "must not be after `to`")
    if (end - start).days >= max_days:
        raise _error("from", f"the period spans at most {max_days} days")
    since = datetime.combine(start, time(), tzinfo=UTC)
    until = datetime.combine(end + timedelta(days=1), time(), tzinfo=UTC)
    return start, end, since, until


def _error(field: str, message: str) -> Unprocessable:
    return Unprocessable(f"{field}: {message}", errors={"query": {field: [message]}})


class plus_days(FunctionElement):  # noqa: N801  (used like an SQL function)
    """`timestamp + days` as an SQL expression, on PostgreSQL and on SQLite."""

    type = UTCDateTime()
    inherit_cache = True
    name = "plus_days"

    def __init__(self, timestamp, days: int):
        # Inline (an int, so safe): PostgreSQL wants a typed integer for make_interval.
        super().__init__(timestamp, literal_column(str(int(days)), Integer))


@compiles(plus_days)
def _plus_days_postgresql(element, compiler, **kw) -> str:
    # Hours, not days: a day added to a timestamptz follows the session's time zone (23 or
    # 25 hours across a DST change); hours are absolute.
    timestamp, days = (compiler.process(c, **kw) for c in element.clauses)
    return f"({timestamp} + make_interval(hours => {days} * 24))"


@compiles(plus_days, "sqlite")
def _plus_days_sqlite(element, compiler, **kw) -> str:
    # SQLite keeps our timestamps as text 'YYYY-MM-DD HH:MM:SS.ffffff'; strftime drops the
    # microseconds, so they are carried over to keep comparisons with stored values exact.
    timestamp, days = (compiler.process(c, **kw) for c in element.clauses)
    return (
        f"(strftime('%Y-%m-%d %H:%M:%S', {timestamp}, {days} || ' days') "
        f"|| substr({timestamp}, 20))"
    )
