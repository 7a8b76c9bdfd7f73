"""Matching's calendar arithmetic: weekly local slots, DST, busy time and the earliest start."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from jobs.matching.availability import (
    Slot,
    Window,
    earliest_fit,
    latest_start,
    member_timezone,
    merge,
    subtract,
    weekly_stretches,
)

BERLIN = member_timezone("DE")
LONG_AGO = datetime(2000, 1, 1, tzinfo=UTC)
HOUR = timedelta(hours=1)


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_countries_read_slots_in_their_own_time_zone():
    assert member_timezone("DE").key == "Europe/Berlin"
    assert member_timezone("AT").key == "Europe/Vienna"
    assert member_timezone("CH").key == "Europe/Zurich"
    assert member_timezone(None).key == "Europe/Berlin"


def test_local_slot_becomes_utc_by_the_season():
    # Wednesday 09:00–17:00 local: 08:00 UTC in winter, 07:00 UTC in summer.
    slot = [Slot(2, 9 * 60, 17 * 60)]
    winter = weekly_stretches(slot, BERLIN, (utc(2026, 1, 14), utc(2026, 1, 15)))
    summer = weekly_stretches(slot, BERLIN, (utc(2026, 7, 15), utc(2026, 7, 16)))

    assert winter == [(utc(2026, 1, 14, 8), utc(2026, 1, 14, 16))]
    assert summer == [(utc(2026, 7, 15, 7), utc(2026, 7, 15, 15))]


def test_slot_across_the_spring_forward_night_is_an_hour_shorter():
    # Sunday 29 March 2026: 02:00 local does not exist; 01:00–04:00 local lasts two hours.
    [(start, end)] = weekly_stretches(
        [Slot(6, 60, 240)], BERLIN, (utc(2026, 3, 28), utc(2026, 3, 30))
    )
    assert (start, end) == (utc(2026, 3, 29, 0), utc(2026, 3, 29, 2))
    window = [Window(1, start, end)]

    fits = earliest_fit(window, 2 * HOUR, slots=[Slot(6, 60, 240)], tz=BERLIN, now=LONG_AGO)
    too_long = earliest_fit(window, 3 * HOUR, slots=[Slot(6, 60, 240)], tz=BERLIN, now=LONG_AGO)

    assert fits is not None and too_long is None


def test_slots_touching_at_midnight_join_into_one_stretch():
    slots = [Slot(0, 20 * 60, 1440), Slot(1, 0, 2 * 60)]  # Mon 20:00 – Tue 02:00
    span = (utc(2026, 1, 12), utc(2026, 1, 14))

    assert weekly_stretches(slots, BERLIN, span) == [(utc(2026, 1, 12, 19), utc(2026, 1, 13, 1))]
    window = [Window(1, utc(2026, 1, 12, 21), utc(2026, 1, 13, 1))]
    fit = earliest_fit(window, 3 * HOUR, slots=slots, tz=BERLIN, now=LONG_AGO)
    assert fit is not None and fit.starts_at == utc(2026, 1, 12, 21)


def test_merge_and_subtract_intervals():
    a, b, c = utc(2026, 1, 1, 8), utc(2026, 1, 1, 10), utc(2026, 1, 1, 12)
    assert merge([(b, c), (a, b)]) == [(a, c)]
    assert subtract([(a, c)], [(b, b + HOUR)]) == [(a, b), (b + HOUR, c)]
    assert subtract([(a, c)], [(a - HOUR, c + HOUR)]) == []
    assert subtract([(a, b)], [(c, c + HOUR)]) == [(a, b)]


def test_job_must_lie_inside_its_window_unless_the_window_is_shorter():
    start = utc(2026, 1, 14, 8)
    assert latest_start(Window(1, start, start + 4 * HOUR), HOUR) == start + 3 * HOUR
    assert latest_start(Window(1, start, start + HOUR / 2), HOUR) == start


def test_busy_time_pushes_the_start_back_or_rules_the_window_out():
    start = utc(2026, 1, 14, 8)
    window = [Window(7, start, start + 4 * HOUR)]
    all_day = [Slot(2, 0, 1440)]

    pushed = earliest_fit(
        window, HOUR, slots=all_day, tz=BERLIN, busy=[(start, start + 2 * HOUR)], now=LONG_AGO
    )
    blocked = earliest_fit(
        window,
        2 * HOUR,
        slots=all_day,
        tz=BERLIN,
        busy=[(start + HOUR, start + 3 * HOUR)],
        now=LONG_AGO,
    )

    assert (pushed.window_id, pushed.starts_at, pushed.ends_at) == (
        7,
        start + 2 * HOUR,
        start + 3 * HOUR,
    )
    assert blocked is None


def test_a_start_is_never_in_the_past():
    start = utc(2026, 1, 14, 8)
    window = [Window(1, start, start + 4 * HOUR)]
    now = start + timedelta(minutes=30, seconds=5)

    fit = earliest_fit(window, HOUR, slots=[Slot(2, 0, 1440)], tz=BERLIN, now=now)
    late = earliest_fit(window, HOUR, slots=[Slot(2, 0, 1440)], tz=BERLIN, now=start + 3.5 * HOUR)

    assert fit.starts_at == start + timedelta(minutes=31)
    assert late is None


def test_earliest_window_wins_whatever_their_order():
    early = Window(1, utc(2026, 1, 14, 8), utc(2026, 1, 14, 12))
    later = Window(2, utc(2026, 1, 15, 8), utc(2026, 1, 15, 12))
    slots = [Slot(day, 0, 1440) for day in range(7)]

    fit = earliest_fit([later, early], HOUR, slots=slots, tz=BERLIN, now=LONG_AGO)

    assert fit.window_id == 1


def test_no_slots_no_fit():
    window = [Window(1, utc(2026, 1, 14, 8), utc(2026, 1, 14, 12))]
    assert earliest_fit(window, HOUR, slots=[], tz=BERLIN, now=LONG_AGO) is None
    assert earliest_fit([], HOUR, slots=[Slot(2, 0, 1440)], tz=BERLIN, now=LONG_AGO) is None
