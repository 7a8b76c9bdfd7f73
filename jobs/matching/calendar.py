"""Members' calendars around a job's windows, read in batches: weekly slots, time off, bookings.

One query per batch brings all three (UNION ALL), only for the members asked about and only
the time off and assigned jobs that touch the job's windows; `fit_member` then applies the
rule of jobs.matching.availability.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache

from sqlalchemy import Integer, bindparam, cast, literal, null, select, union_all

from crowd.core.db import UTCDateTime, is_postgres
from crowd.extensions import db
from jobs.matching.availability import (
    Fit,
    Interval,
    Slot,
    earliest_fit,
    latest_start,
    member_timezone,
    search_span,
)
from jobs.matching.facts import ACTIVE_JOB_STATUSES, JobFacts, among
from jobs.models import Job
from members.models import AvailabilitySlot, TimeOff


@dataclass(frozen=True)
class Calendar:
    """What occupies a batch of members around the job's windows, by member id."""

    slots: dict[int, list[Slot]] = field(default_factory=dict)
    time_off: dict[int, list[Interval]] = field(default_factory=dict)
    booked: dict[int, list[Interval]] = field(default_factory=dict)


@lru_cache(maxsize=2)
def _calendar_query(postgres: bool):
    def of_members(column):
        return among(column, "members", postgres=postgres)

    lo, hi = bindparam("lo", type_=UTCDateTime), bindparam("hi", type_=UTCDateTime)
    no_minute, no_time = cast(null(), Integer), cast(null(), UTCDateTime)
    slots = select(
        literal("slot").label("kind"),
        AvailabilitySlot.member_id.label("member_id"),
        cast(AvailabilitySlot.weekday, Integer).label("weekday"),
        cast(AvailabilitySlot.start_minute, Integer).label("start_minute"),
        cast(AvailabilitySlot.end_minute, Integer).label("end_minute"),
        no_time.label("starts_at"),
        no_time.label("ends_at"),
    ).where(of_members(AvailabilitySlot.member_id))
    time_off = select(
        literal("time_off"),
        TimeOff.member_id,
        no_minute,
        no_minute,
        no_minute,
        TimeOff.starts_at,
        TimeOff.ends_at,
    ).where(of_members(TimeOff.member_id), TimeOff.starts_at < hi, TimeOff.ends_at > lo)
    booked = select(
        literal("booked"),
        Job.assigned_member_id,
        no_minute,
        no_minute,
        no_minute,
        Job.scheduled_start,
        Job.scheduled_end,
    ).where(
        of_members(Job.assigned_member_id),
        Job.status.in_(ACTIVE_JOB_STATUSES),
        Job.id != bindparam("job_id"),
        Job.scheduled_start < hi,
        Job.scheduled_end > lo,
    )
    return union_all(slots, time_off, booked)


def load_calendars(facts: JobFacts, member_ids: Sequence[int]) -> Calendar:
    """Weekly slots, and time off and other assigned jobs touching the windows, of members."""
    calendar = Calendar()
    if not member_ids or not facts.windows:
        return calendar
    lo, hi = search_span(facts.windows, facts.duration)
    params = {"members": list(member_ids), "lo": lo, "hi": hi, "job_id": facts.job_id}
    rows = db.session.execute(_calendar_query(is_postgres()), params).all()
    for kind, member_id, weekday, start, end, starts_at, ends_at in rows:
        if kind == "slot":
            calendar.slots.setdefault(member_id, []).append(Slot(weekday, start, end))
        else:
            getattr(calendar, kind).setdefault(member_id, []).append((starts_at, ends_at))
    return calendar


def fit_member(
    facts: JobFacts,
    calendar: Calendar,
    member_id: int,
    country: str | None,
    *,
    now: datetime,
    busy: tuple[str, ...] = ("time_off", "booked"),
) -> Fit | None:
    """The window and start the member would take, minding the `busy` kinds of time."""
    blocked = [interval for kind in busy for interval in getattr(calendar, kind).get(member_id, ())]
    return earliest_fit(
        facts.windows,
        facts.duration,
        slots=calendar.slots.get(member_id, ()),
        tz=member_timezone(country),
        busy=blocked,
        now=now,
    )


def unavailable_reason(
    facts: JobFacts, calendar: Calendar, member_id: int, country: str | None, *, now: datetime
) -> str | None:
    """Why the member fits no window — naming the first obstacle — or None when one fits."""
    if fit_member(facts, calendar, member_id, country, now=now) is not None:
        return None
    if all(latest_start(w, facts.duration) < now for w in facts.windows):
        return "Every window of the job is over."
    if fit_member(facts, calendar, member_id, country, now=now, busy=()) is None:
        return "Their weekly availability covers none of the job's windows."
    if fit_member(facts, calendar, member_id, country, now=now, busy=("time_off",)) is None:
        return "Time off covers every window the job could fit."
    return "Booked on other jobs during every window the job could fit."
