"""When a member could do a job: weekly slots in local time, minus time off and other bookings.

The rule (what "free in a job window" means):

* A job window is the period the customer offers. The job must lie inside it: the member starts
  at some instant in [window start, window end − duration]. A window shorter than the job
  leaves one start: the window's start.
* [start, start + duration] must lie inside the member's weekly availability. Slots are wall-
  clock minutes in the member's local time (Europe/Berlin for DE, Europe/Vienna for AT,
  Europe/Zurich for CH — one rule set, so DST shifts apply as the member lives them); slots
  that touch (Mon 20:00–24:00 and Tue 00:00–02:00) join into one stretch.
* It must not overlap the member's time off, nor a job assigned to them (status assigned or
  in_progress, from scheduled_start to scheduled_end). There is no travel buffer between jobs.
* Starts are never in the past: the earliest start is now (to the minute) at the soonest.

The earliest such start over all windows is chosen — the window and start a member would take.
The earliest feasible start is always the window's start or the start of a free stretch, so it
is found by intersecting intervals rather than by stepping through time.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import NamedTuple
from zoneinfo import ZoneInfo

Interval = tuple[datetime, datetime]

TIMEZONES = {
    "DE": ZoneInfo("Europe/Berlin"),
    "AT": ZoneInfo("Europe/Vienna"),
    "CH": ZoneInfo("Europe/Zurich"),
}
DEFAULT_TIMEZONE = TIMEZONES["DE"]


def member_timezone(country: str | None) -> ZoneInfo:
    """The time zone a member's weekly slots are read in (by their country; DE when unset)."""
    return TIMEZONES.get(country or "", DEFAULT_TIMEZONE)


@dataclass(frozen=True)
class Window:
    """A job window: the job must be done between `starts_at` and `ends_at`."""

    id: int
    starts_at: datetime
    ends_at: datetime


@dataclass(frozen=True)
class Fit:
    """Where a member fits a job: the window and the scheduled start and end."""

    window_id: int
    starts_at: datetime
    ends_at: datetime


class Slot(NamedTuple):
    """A weekly slot in local wall-clock minutes."""

    weekday: int  # 0 = Monday
    start_minute: int
    end_minute: int  # ≤ 1440


def weekly_stretches(slots: Iterable[Slot], tz: ZoneInfo, span: Interval) -> list[Interval]:
    """The UTC intervals the weekly `slots` cover within `span`, touching ones joined."""
    # Many members keep the same week (office hours…): work each pattern out once.
    return list(_stretches(tuple(sorted(slots)), tz, span))


@lru_cache(maxsize=4096)
def _stretches(slots: tuple[Slot, ...], tz: ZoneInfo, span: Interval) -> tuple[Interval, ...]:
    by_weekday: dict[int, list[Slot]] = {}
    for slot in slots:
        by_weekday.setdefault(slot.weekday, []).append(slot)
    if not by_weekday:
        return ()
    lo, hi = span
    # One local day earlier: a slot ending at midnight may begin the day before `lo`.
    day = lo.astimezone(tz).date() - timedelta(days=1)
    last = hi.astimezone(tz).date()
    occurrences = []
    while day <= last:
        for slot in by_weekday.get(day.weekday(), ()):
            start, end = _local(day, slot.start_minute, tz), _local(day, slot.end_minute, tz)
            occurrences.append((start, end))
        day += timedelta(days=1)
    return tuple(clip(merge(occurrences), span))


def _local(day: date, minute: int, tz: ZoneInfo) -> datetime:
    wall = datetime.combine(day, time()) + timedelta(minutes=minute)
    return wall.replace(tzinfo=tz).astimezone(UTC)


def merge(intervals: Iterable[Interval]) -> list[Interval]:
    """Sorted, with overlapping or touching intervals joined."""
    merged: list[list[datetime]] = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return [(start, end) for start, end in merged]


def clip(intervals: Iterable[Interval], span: Interval) -> list[Interval]:
    lo, hi = span
    return [(max(s, lo), min(e, hi)) for s, e in intervals if s < hi and e > lo]


def subtract(free: Sequence[Interval], busy: Iterable[Interval]) -> list[Interval]:
    """`free` (sorted, disjoint) minus every interval in `busy`."""
    result = list(free)
    for b_start, b_end in merge(busy):
        remaining = []
        for start, end in result:
            if b_end <= start or b_start >= end:
                remaining.append((start, end))
                continue
            if start < b_start:
                remaining.append((start, b_start))
            if b_end < end:
                remaining.append((b_end, end))
        result = remaining
    return result


def latest_start(window: Window, duration: timedelta) -> datetime:
    """The job lies inside the window; a window shorter than the job allows only its start."""
    return max(window.starts_at, window.ends_at - duration)


def search_span(windows: Sequence[Window], duration: timedelta) -> Interval:
    """The period that matters for these windows: first start to last possible end."""
    return (
        min(w.starts_at for w in windows),
        max(latest_start(w, duration) for w in windows) + duration,
    )


def earliest_fit(
    windows: Sequence[Window],
    duration: timedelta,
    *,
    slots: Iterable[Slot],
    tz: ZoneInfo,
    busy: Iterable[Interval] = (),
    now: datetime,
) -> Fit | None:
    """The earliest start at which the job fits a window, the member's slots and no busy time."""
    if not windows:
        return None
    span = search_span(windows, duration)
    free = subtract(weekly_stretches(slots, tz, span), busy)
    not_before = _ceil_minute(now)
    best: Fit | None = None
    for window in windows:
        lo = max(window.starts_at, not_before)
        hi = latest_start(window, duration)
        for start, end in free:
            begin = max(start, lo)
            if begin > hi:
                break
            if begin + duration <= end:
                if best is None or begin < best.starts_at:
                    best = Fit(window.id, begin, begin + duration)
                break
    return best


def _ceil_minute(moment: datetime) -> datetime:
    floored = moment.replace(second=0, microsecond=0)
    return floored if floored == moment else floored + timedelta(minutes=1)
