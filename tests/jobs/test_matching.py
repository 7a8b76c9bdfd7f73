"""Matching: each eligibility requirement, the ranking's weights, and the staff endpoints."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from accounts.lifecycle import close_access
from crowd.extensions import db
from customers.models import BlockedMember, FavouriteMember
from jobs.matching import (
    WEIGHTS,
    eligibility_and_window,
    eligibility_problems,
    member_window,
    rank_candidates,
    ranking,
)
from jobs.models import Job, JobSkill, JobWindow, Offer
from members.models import (
    AvailabilitySlot,
    Member,
    MemberStats,
    Skill,
    SkillCategory,
    TimeOff,
)
from tests.jobs.conftest import BERLIN, active_member

BERLIN_TZ = ZoneInfo("Europe/Berlin")
POTSDAM = {"lat": 52.3906, "lon": 13.0645}  # ≈ 27 km from Berlin Mitte
HAMBURG = {"lat": 53.5511, "lon": 9.9937}  # ≈ 255 km


def local_window(days_ahead: int = 3, start_hour: int = 10, hours: int = 4) -> tuple:
    """A window on a whole local hour (Europe/Berlin) some days ahead, as aware UTC."""
    day = datetime.now(BERLIN_TZ).date() + timedelta(days=days_ahead)
    start = datetime.combine(day, time(start_hour), tzinfo=BERLIN_TZ).astimezone(UTC)
    return start, start + timedelta(hours=hours)


def make_job(
    customer,
    *,
    category: str = "tv_audio",
    skills: tuple[str, ...] = ("tv_wall_mount",),
    windows: list[tuple] | None = None,
    duration_minutes: int = 90,
    min_level_rank: int = 1,
    status: str = "open",
    price_amount: int = 12000,
    **fields,
) -> Job:
    """A job row in Berlin Mitte (the API's posting is tested elsewhere)."""
    category_row = db.session.scalar(select(SkillCategory).where(SkillCategory.slug == category))
    skill_ids = db.session.scalars(select(Skill.id).where(Skill.slug.in_(skills)))
    job = Job(
        customer_id=customer.profile_id,
        category_id=category_row.id,
        title="Mount a TV",
        description="On a brick wall.",
        device={},
        postcode="10117",
        city="Berlin",
        country="DE",
        lat=fields.pop("lat", BERLIN["lat"]),
        lon=fields.pop("lon", BERLIN["lon"]),
        duration_minutes=duration_minutes,
        pricing="fixed",
        currency="EUR",
        price_amount=price_amount,
        min_level_rank=min_level_rank,
        status=status,
        windows=[JobWindow(starts_at=s, ends_at=e) for s, e in (windows or [local_window()])],
        skills=[JobSkill(skill_id=skill_id) for skill_id in skill_ids],
        **fields,
    )
    db.session.add(job)
    db.session.flush()
    return job


def booked_job(customer, member_id: int, start: datetime, end: datetime, **kw) -> Job:
    """A job already assigned to the member from `start` to `end`."""
    return make_job(
        customer,
        status=kw.pop("status", "assigned"),
        windows=[(start, end)],
        duration_minutes=int((end - start).total_seconds() // 60),
        assigned_member_id=member_id,
        scheduled_start=start,
        scheduled_end=end,
        **kw,
    )


def member_row(actor) -> Member:
    return db.session.get(Member, actor.profile_id)


def candidate_ids(job: Job, **kw) -> list[int]:
    return [c.member_id for c in rank_candidates(job, **kw)]


# --- each requirement excludes exactly who fails it ---------------------------------------


def test_active_skilled_nearby_available_member_is_a_candidate(customer):
    job = make_job(customer)
    member = active_member()

    [candidate] = rank_candidates(job)

    start, _ = local_window()
    assert candidate.member_id == member.profile_id
    assert candidate.user_id == member.user_id
    assert candidate.window_id == job.windows[0].id
    assert candidate.window_start == start
    assert candidate.window_end == start + timedelta(minutes=90)
    assert candidate.distance_km == pytest.approx(0, abs=0.01)
    assert eligibility_problems(job, member.profile_id) == []


@pytest.mark.parametrize("status", ["applicant", "paused", "suspended", "offboarded"])
def test_member_who_is_not_active_is_not_a_candidate(customer, status):
    job = make_job(customer)
    eligible, other = active_member(), active_member()
    member_row(other).status = status
    db.session.flush()

    assert candidate_ids(job) == [eligible.profile_id]
    assert eligibility_problems(job, other.profile_id) == [f"Status is {status}, not active."]


def test_member_whose_account_is_deactivated_is_not_a_candidate(customer):
    job = make_job(customer)
    eligible, other = active_member(), active_member()
    close_access(other.user_id, actor_id=None, reason="deactivated by staff")
    db.session.flush()

    assert candidate_ids(job) == [eligible.profile_id]
    assert eligibility_problems(job, other.profile_id) == ["The member's account is deactivated."]


def test_member_missing_a_required_skill_is_not_a_candidate(customer):
    job = make_job(customer, skills=("tv_wall_mount", "soundbar_install"))
    both = active_member(skills=("tv_wall_mount", "soundbar_install"))
    one = active_member(skills=("tv_wall_mount",))

    assert candidate_ids(job) == [both.profile_id]
    assert eligibility_problems(job, one.profile_id) == [
        "Lacks the skills the job requires: soundbar_install."
    ]


def test_unverified_skill_does_not_qualify_where_the_category_requires_verification(customer):
    job = make_job(customer, category="household_appliances", skills=("washing_machine_repair",))
    verified = active_member(skills=("washing_machine_repair",), verified=True)
    unverified = active_member(skills=("washing_machine_repair",), verified=False)

    assert candidate_ids(job) == [verified.profile_id]
    assert eligibility_problems(job, unverified.profile_id) == [
        "Lacks the verified skills the job requires: washing_machine_repair."
    ]


def test_unverified_skill_qualifies_where_the_category_does_not_require_it(customer):
    job = make_job(customer)
    unverified = active_member(verified=False)

    assert candidate_ids(job) == [unverified.profile_id]


def test_job_without_named_skills_needs_any_skill_of_its_category(customer):
    job = make_job(customer, skills=())
    in_category = active_member(skills=("soundbar_install",))
    active_member(skills=("printer_setup_wifi",))

    assert candidate_ids(job) == [in_category.profile_id]


def test_member_below_the_minimum_level_is_not_a_candidate(customer):
    job = make_job(customer, min_level_rank=3)
    senior = active_member(level_rank=3)
    starter = active_member(level_rank=2)

    assert candidate_ids(job) == [senior.profile_id]
    assert eligibility_problems(job, starter.profile_id) == [
        "Level rank 2 is below the job's minimum 3."
    ]


def test_job_outside_the_service_radius_excludes_the_member(customer):
    job = make_job(customer)
    reaching = active_member(radius_km=30, **POTSDAM)
    too_short = active_member(radius_km=20, **POTSDAM)
    far_away = active_member(radius_km=200, **HAMBURG)

    assert candidate_ids(job) == [reaching.profile_id]
    [problem] = eligibility_problems(job, too_short.profile_id)
    assert problem.startswith("The job is 27.") and problem.endswith("service radius of 20 km.")
    [problem] = eligibility_problems(job, far_away.profile_id)
    assert "beyond the service radius of 200 km" in problem


def test_member_without_a_location_is_not_a_candidate(customer):
    job = make_job(customer)
    nowhere = active_member()
    member_row(nowhere).lat = member_row(nowhere).lon = None
    db.session.flush()

    assert candidate_ids(job) == []
    assert eligibility_problems(job, nowhere.profile_id) == ["Has no location set."]


def _only_available(actor, weekday: int, start_minute: int = 0, end_minute: int = 1440) -> None:
    member = member_row(actor)
    member.availability = [
        AvailabilitySlot(weekday=weekday, start_minute=start_minute, end_minute=end_minute)
    ]
    db.session.flush()


def test_member_whose_weekly_slots_miss_every_window_is_not_a_candidate(customer):
    start, end = local_window(hours=4)  # 10:00–14:00 local
    job = make_job(customer, windows=[(start, end)])
    weekday = start.astimezone(BERLIN_TZ).weekday()
    morning = active_member()
    _only_available(morning, weekday, 9 * 60, 12 * 60)  # 10:00–11:30 fits
    other_day = active_member()
    _only_available(other_day, (weekday + 1) % 7)
    too_short = active_member()
    _only_available(too_short, weekday, 11 * 60, 12 * 60)  # only one hour inside the window

    assert candidate_ids(job) == [morning.profile_id]
    expected = ["Their weekly availability covers none of the job's windows."]
    assert eligibility_problems(job, other_day.profile_id) == expected
    assert eligibility_problems(job, too_short.profile_id) == expected


def test_slot_starting_inside_the_window_sets_the_scheduled_start(customer):
    start, end = local_window(hours=4)  # 10:00–14:00 local
    job = make_job(customer, windows=[(start, end)])
    member = active_member()
    _only_available(member, start.astimezone(BERLIN_TZ).weekday(), 11 * 60 + 30, 18 * 60)

    [candidate] = rank_candidates(job)

    assert candidate.window_start == start + timedelta(minutes=90)
    assert candidate.window_end == start + timedelta(minutes=180)


def test_member_on_time_off_during_the_window_is_not_a_candidate(customer):
    start, end = local_window()
    job = make_job(customer, windows=[(start, end)])
    free = active_member()
    away = active_member()
    db.session.add(
        TimeOff(
            member_id=away.profile_id,
            starts_at=start - timedelta(days=1),
            ends_at=end + timedelta(days=1),
            reason="holiday",
        )
    )
    db.session.flush()

    assert candidate_ids(job) == [free.profile_id]
    assert eligibility_problems(job, away.profile_id) == [
        "Time off covers every window the job could fit."
    ]


def test_member_booked_on_another_job_at_that_time_is_not_a_candidate(customer):
    start, end = local_window()
    job = make_job(customer, windows=[(start, end)])
    free = active_member()
    busy = active_member(max_concurrent_jobs=3)
    booked_job(customer, busy.profile_id, start - timedelta(hours=1), end + timedelta(hours=1))

    assert candidate_ids(job) == [free.profile_id]
    assert eligibility_problems(job, busy.profile_id) == [
        "Booked on other jobs during every window the job could fit."
    ]


def test_member_booked_early_in_the_window_is_scheduled_after_that_job(customer):
    start, end = local_window(hours=4)
    job = make_job(customer, windows=[(start, end)])
    member = active_member()
    booked_job(customer, member.profile_id, start, start + timedelta(hours=1))

    [candidate] = rank_candidates(job)

    assert candidate.window_start == start + timedelta(hours=1)


def test_finished_or_cancelled_jobs_do_not_block_the_calendar(customer):
    start, end = local_window()
    job = make_job(customer, windows=[(start, end)])
    member = active_member(max_concurrent_jobs=1)
    booked_job(customer, member.profile_id, start, end, status="completed")
    booked_job(customer, member.profile_id, start, end, status="cancelled")

    assert candidate_ids(job) == [member.profile_id]


def test_earliest_fitting_window_is_chosen(customer):
    first = local_window(days_ahead=3)
    second = local_window(days_ahead=4)
    job = make_job(customer, windows=[first, second])
    member = active_member()
    booked_job(customer, member.profile_id, *first)

    [candidate] = rank_candidates(job)

    assert candidate.window_id == job.windows[1].id
    assert candidate.window_start == second[0]


def _two_windows_first_taken(customer):
    """A job with two windows; a member booked in the first; one available on neither day."""
    first, second = local_window(days_ahead=3), local_window(days_ahead=4)
    job = make_job(customer, windows=[first, second])
    member = active_member()
    booked_job(customer, member.profile_id, *first)
    unavailable = active_member()
    _only_available(unavailable, (first[0].astimezone(BERLIN_TZ).weekday() + 2) % 7)
    return job, second, member, unavailable


def test_member_window_names_the_window_and_start_a_member_would_take(customer):
    job, second, member, unavailable = _two_windows_first_taken(customer)

    fit = member_window(job, member.profile_id)

    assert (fit.window_id, fit.starts_at) == (job.windows[1].id, second[0])
    assert fit.ends_at == second[0] + timedelta(minutes=90)
    assert member_window(job, unavailable.profile_id) is None


def test_eligibility_and_window_answer_as_the_two_questions_apart(customer):
    """What accepting and staff assignment read at once equals the two separate answers."""
    job, second, member, unavailable = _two_windows_first_taken(customer)
    unskilled = active_member(skills=("soundbar_install",))

    for who in (member.profile_id, unavailable.profile_id, unskilled.profile_id, 10**9):
        problems, fit = eligibility_and_window(job, who)
        assert problems == eligibility_problems(job, who)
        assert fit == (None if problems else member_window(job, who))
    assert eligibility_and_window(job, member.profile_id)[1].window_id == job.windows[1].id
    assert eligibility_and_window(job, unskilled.profile_id)[0]  # a reason is given


def test_the_member_holding_the_job_is_not_blocked_by_it(customer):
    start, end = local_window()
    job = make_job(customer, windows=[(start, end)])
    holder = active_member(max_concurrent_jobs=1)
    job.status, job.assigned_member_id = "assigned", holder.profile_id
    job.scheduled_start, job.scheduled_end = start, start + timedelta(minutes=90)
    db.session.flush()

    assert eligibility_problems(job, holder.profile_id) == []


def test_member_at_max_concurrent_jobs_is_not_a_candidate(customer):
    job = make_job(customer)
    free = active_member(max_concurrent_jobs=1)
    full = active_member(max_concurrent_jobs=1)
    later = local_window(days_ahead=10)
    booked_job(customer, full.profile_id, *later, status="in_progress")

    assert candidate_ids(job) == [free.profile_id]
    assert eligibility_problems(job, full.profile_id) == [
        "Already has 1 active jobs, the most they take at once (1)."
    ]


def test_member_blocked_by_the_customer_is_not_a_candidate(customer, other_customer):
    job = make_job(customer)
    liked = active_member()
    blocked = active_member()
    db.session.add(BlockedMember(customer_id=customer.profile_id, member_id=blocked.profile_id))
    # Another customer's block is none of this job's business.
    db.session.add(BlockedMember(customer_id=other_customer.profile_id, member_id=liked.profile_id))
    db.session.flush()

    assert candidate_ids(job) == [liked.profile_id]
    assert eligibility_problems(job, blocked.profile_id) == [
        "The customer has blocked this member."
    ]


def test_excluded_members_are_not_candidates(customer):
    job = make_job(customer)
    kept = active_member()
    offered = active_member()

    assert candidate_ids(job, exclude_member_ids=[offered.profile_id]) == [kept.profile_id]
    assert eligibility_problems(job, offered.profile_id) == []


def test_every_failed_requirement_is_explained(customer):
    job = make_job(customer, min_level_rank=2)
    member = active_member(skills=("soundbar_install",), radius_km=20, **POTSDAM)
    member_row(member).status = "paused"
    db.session.add(BlockedMember(customer_id=customer.profile_id, member_id=member.profile_id))
    db.session.flush()

    problems = eligibility_problems(job, member.profile_id)

    assert len(problems) == 5
    assert problems[0] == "Status is paused, not active."
    assert problems[1] == "Lacks the skills the job requires: tv_wall_mount."
    assert problems[4] == "The customer has blocked this member."


def test_unknown_member_has_a_problem_not_an_error(customer):
    job = make_job(customer)

    assert eligibility_problems(job, 999_999) == ["There is no crowd member 999999."]


def test_job_whose_windows_are_over_has_no_candidates(customer):
    past = datetime.now(UTC) - timedelta(hours=5)
    job = make_job(customer, windows=[(past, past + timedelta(hours=2))])
    member = active_member()

    assert rank_candidates(job) == []
    assert eligibility_problems(job, member.profile_id) == ["Every window of the job is over."]


# --- ranking -------------------------------------------------------------------------------


def _stats(actor, **counters) -> None:
    stats = db.session.get(MemberStats, actor.profile_id)
    for name, value in counters.items():
        setattr(stats, name, value)
    db.session.flush()


def test_closer_member_ranks_first_all_else_equal(customer):
    job = make_job(customer)
    far = active_member(radius_km=40, **POTSDAM)
    near = active_member(radius_km=40)

    ranked = rank_candidates(job)

    assert [c.member_id for c in ranked] == [near.profile_id, far.profile_id]
    assert ranked[0].breakdown["distance"] > ranked[1].breakdown["distance"]
    assert ranked[0].breakdown["distance"] == WEIGHTS["distance"]


def test_customer_favourite_outranks_a_closer_member(customer):
    job = make_job(customer)
    # 27 km of an 80 km radius costs a third of the distance weight: less than a favourite's.
    near = active_member(radius_km=80)
    favourite = active_member(radius_km=80, **POTSDAM)
    db.session.add(FavouriteMember(customer_id=customer.profile_id, member_id=favourite.profile_id))
    db.session.flush()

    ranked = rank_candidates(job)

    assert [c.member_id for c in ranked] == [favourite.profile_id, near.profile_id]
    assert ranked[0].breakdown["favourite"] == WEIGHTS["favourite"]
    assert ranked[1].breakdown["favourite"] == 0


def test_member_who_earned_less_recently_gets_the_fairness_boost(customer):
    job = make_job(customer)
    busy_earner = active_member()
    newcomer = active_member()
    # Earnings in another category, so that experience in this one stays equal.
    done = datetime.now(UTC) - timedelta(days=3)
    booked_job(
        customer,
        busy_earner.profile_id,
        done - timedelta(hours=2),
        done,
        status="completed",
        category="smart_home",
        skills=("smart_lighting_setup",),
        price_amount=90_000,
        completed_at=done,
    )

    ranked = rank_candidates(job)

    assert [c.member_id for c in ranked] == [newcomer.profile_id, busy_earner.profile_id]
    assert ranked[0].breakdown["fairness"] == WEIGHTS["fairness"]
    assert ranked[1].breakdown["fairness"] == pytest.approx(WEIGHTS["fairness"] * 0.4)
    assert ranked[0].breakdown["experience"] == ranked[1].breakdown["experience"] == 0


def test_earnings_older_than_30_days_do_not_count(customer):
    job = make_job(customer)
    member = active_member()
    done = datetime.now(UTC) - timedelta(days=31)
    booked_job(
        customer,
        member.profile_id,
        done - timedelta(hours=2),
        done,
        status="closed",
        category="smart_home",
        skills=("smart_lighting_setup",),
        price_amount=90_000,
        completed_at=done,
    )

    [candidate] = rank_candidates(job)

    assert candidate.breakdown["fairness"] == WEIGHTS["fairness"]


def test_experience_counts_completed_jobs_in_the_category(customer):
    job = make_job(customer)
    veteran = active_member()
    novice = active_member()
    done = datetime.now(UTC) - timedelta(days=60)
    for status in ("completed", "confirmed", "closed"):
        booked_job(
            customer, veteran.profile_id, done, done + timedelta(hours=1), status=status
        ).completed_at = done
    db.session.flush()

    ranked = rank_candidates(job)

    assert [c.member_id for c in ranked] == [veteran.profile_id, novice.profile_id]
    assert ranked[0].breakdown["experience"] > 0 == ranked[1].breakdown["experience"]


def test_well_rated_reliable_member_outranks_a_poorly_rated_one(customer):
    job = make_job(customer)
    poor = active_member()
    good = active_member()
    _stats(poor, rating_count=20, rating_sum=50, jobs_completed=10, jobs_cancelled=5)
    _stats(good, rating_count=20, rating_sum=98, jobs_completed=15, jobs_cancelled=0)

    ranked = rank_candidates(job)

    assert [c.member_id for c in ranked] == [good.profile_id, poor.profile_id]
    assert ranked[0].breakdown["rating"] > ranked[1].breakdown["rating"]
    assert ranked[0].breakdown["reliability"] > ranked[1].breakdown["reliability"]


def test_few_ratings_are_smoothed_towards_the_prior(customer):
    job = make_job(customer)
    one_star_once = active_member()
    _stats(one_star_once, rating_count=1, rating_sum=1)

    [candidate] = rank_candidates(job)

    # (4.5 × 5 + 1) / 6 ≈ 3.92 → (3.92 − 1) / 4 of the weight, far from a single 1-star.
    assert candidate.breakdown["rating"] == pytest.approx(WEIGHTS["rating"] * 0.729, abs=0.01)


def test_member_with_fewer_active_jobs_ranks_first(customer):
    job = make_job(customer)
    loaded = active_member(max_concurrent_jobs=2)
    idle = active_member(max_concurrent_jobs=2)
    booked_job(customer, loaded.profile_id, *local_window(days_ahead=10))

    ranked = rank_candidates(job)

    assert [c.member_id for c in ranked] == [idle.profile_id, loaded.profile_id]
    assert ranked[1].breakdown["load"] == WEIGHTS["load"] / 2


def test_breakdown_has_every_weighted_component_and_sums_to_the_score(customer):
    job = make_job(customer)
    member = active_member(radius_km=40, level_rank=2, **POTSDAM)
    _stats(
        member,
        offers_accepted=7,
        offers_declined=3,
        median_response_seconds=300,
        rating_count=4,
        rating_sum=18,
    )

    [candidate] = rank_candidates(job)

    assert sum(WEIGHTS.values()) == 100
    assert set(candidate.breakdown) == set(WEIGHTS)
    assert sum(candidate.breakdown.values()) == pytest.approx(candidate.score, abs=1e-6)
    assert 0 < candidate.score < 100
    for name, contribution in candidate.breakdown.items():
        assert 0 <= contribution <= WEIGHTS[name]
    assert candidate.breakdown["programme"] == 0
    assert candidate.breakdown["level"] == WEIGHTS["level"] / 2


def test_unavailable_best_members_are_skipped_until_the_limit_is_filled(customer):
    start, _ = local_window()
    job = make_job(customer)
    weekday = start.astimezone(BERLIN_TZ).weekday()
    # The ten nearest (best ranked) cannot come that day; two farther ones can.
    for i in range(10):
        _only_available(
            active_member(radius_km=40, lat=BERLIN["lat"] + i * 0.001), (weekday + 1) % 7
        )
    farther = [active_member(radius_km=40, lat=BERLIN["lat"] + 0.05 + i * 0.01) for i in range(2)]

    assert candidate_ids(job, limit=1) == [farther[0].profile_id]
    assert candidate_ids(job) == [m.profile_id for m in farther]


def test_limit_keeps_the_best_candidates(customer):
    job = make_job(customer)
    members = [active_member(radius_km=40, lat=BERLIN["lat"] + i * 0.02) for i in range(4)]

    assert candidate_ids(job, limit=2) == [members[0].profile_id, members[1].profile_id]
    assert candidate_ids(job, limit=0) == []


def _ordered(candidates) -> bool:
    keys = [(-c.score, c.distance_km, c.member_id) for c in candidates]
    return keys == sorted(keys)


def test_a_limited_ranking_counts_programme_boosts_as_the_full_one_does(customer, monkeypatch):
    """A programme's boost counts in a limited ranking as in the full one: a member behind
    everyone on distance comes first when the boost lifts them above the rest."""
    job = make_job(customer)
    # Eighty members 0 to 4.4 km from the job.
    crowd = [active_member(radius_km=40, lat=BERLIN["lat"] + i * 0.0005) for i in range(80)]
    # 8 km out of 40: the lowest distance share (16 of 20 points); the programme's boost
    # (5 points) makes them the best.
    boosted = active_member(radius_km=40, lat=BERLIN["lat"] + 0.072)

    def boost(member_ids):
        return {boosted.profile_id: 1.0} if boosted.profile_id in member_ids else {}

    monkeypatch.setattr(ranking, "_PROGRAMMES", [*ranking._PROGRAMMES, boost])

    everyone = rank_candidates(job)
    best_three = rank_candidates(job, limit=3)

    assert len(everyone) == len(crowd) + 1 and _ordered(everyone)
    assert best_three == everyone[:3]
    assert best_three[0].member_id == boosted.profile_id
    assert best_three[0].breakdown["programme"] == WEIGHTS["programme"]
    assert [c.member_id for c in best_three[1:]] == [m.profile_id for m in crowd[:2]]


def _window_of(monkeypatch, size: int) -> list[int]:
    """Limited rankings read windows of `size` members; returns a list that grows by one each
    time a ranking falls back to reading the whole crowd."""
    monkeypatch.setattr(ranking, "RANK_WINDOW", size)
    monkeypatch.setattr(ranking, "RANK_WINDOW_PER_WANTED", 1)
    full_reads: list[int] = []
    read_all = ranking.read_all

    def counted(*args):
        full_reads.append(1)
        return read_all(*args)

    monkeypatch.setattr(ranking, "read_all", counted)
    return full_reads


def test_a_limited_ranking_scores_a_window_when_it_proves_the_best(customer, monkeypatch):
    """Three members far ahead of the rest (10+ points on distance): a window of five proves
    them the best, and the crowd behind it is never read."""
    job = make_job(customer)
    close = [active_member(radius_km=40, lat=BERLIN["lat"] + i * 0.009) for i in range(3)]
    far = [active_member(radius_km=40, lat=BERLIN["lat"] + 0.2 + i * 0.009) for i in range(12)]
    everyone = rank_candidates(job)
    full_reads = _window_of(monkeypatch, 5)

    best_two = rank_candidates(job, limit=2)

    assert [c.member_id for c in everyone] == [m.profile_id for m in close + far]
    assert best_two == everyone[:2]
    assert full_reads == []


def test_a_limited_ranking_reads_everyone_when_the_window_proves_too_few(customer, monkeypatch):
    """Fifteen members within a point of each other: a window of five proves nobody best (the
    rest might score as high), so the whole crowd is read — and the answer is the same."""
    job = make_job(customer)
    for i in range(15):
        active_member(radius_km=40, lat=BERLIN["lat"] + i * 0.0005)
    everyone = rank_candidates(job)
    full_reads = _window_of(monkeypatch, 5)

    best_three = rank_candidates(job, limit=3)

    assert best_three == everyone[:3] and _ordered(everyone)
    assert full_reads == [1]


def test_a_boosted_member_outside_the_window_still_comes_first(customer, monkeypatch):
    """The database's estimate leaves the programmes out; its window must not either."""
    job = make_job(customer)
    crowd = [active_member(radius_km=40, lat=BERLIN["lat"] + i * 0.0005) for i in range(12)]
    boosted = active_member(radius_km=40, lat=BERLIN["lat"] + 0.072)  # 8 km: last on distance

    def boost(member_ids):
        return {boosted.profile_id: 1.0} if boosted.profile_id in member_ids else {}

    monkeypatch.setattr(ranking, "_PROGRAMMES", [*ranking._PROGRAMMES, boost])
    everyone = rank_candidates(job)
    _window_of(monkeypatch, 5)

    best_three = rank_candidates(job, limit=3)

    assert everyone[0].member_id == boosted.profile_id and len(everyone) == len(crowd) + 1
    assert best_three == everyone[:3]


# --- HTTP ----------------------------------------------------------------------------------


def candidates_url(job_id: int, **query) -> str:
    params = "&".join(f"{k}={v}" for k, v in query.items())
    return f"/api/v1/jobs/{job_id}/candidates" + (f"?{params}" if params else "")


def test_community_manager_lists_ranked_candidates_with_breakdown_and_weights(client, customer, cm):
    job = make_job(customer)
    far = active_member(radius_km=40, display_name="Far Away", **POTSDAM)
    near = active_member(radius_km=40, display_name="Right Here")

    response = client.get(candidates_url(job.id), headers=cm.headers)

    assert response.status_code == 200
    body = response.get_json()
    assert body["job_id"] == job.id
    assert body["weights"] == WEIGHTS
    assert {"active", "skills", "location", "available"} <= set(body["requirements"])
    assert [i["member_id"] for i in body["items"]] == [near.profile_id, far.profile_id]
    first = body["items"][0]
    assert first["display_name"] == "Right Here"
    assert first["distance_km"] == pytest.approx(0, abs=0.01)
    assert first["window"]["id"] == job.windows[0].id
    assert datetime.fromisoformat(first["window"]["starts_at"]) == job.windows[0].starts_at
    assert set(first["breakdown"]) == set(WEIGHTS)
    assert sum(first["breakdown"].values()) == pytest.approx(first["score"], abs=1e-6)
    assert first["offer_status"] is None


def test_candidates_limit_is_honoured_and_bounded(client, customer, admin):
    job = make_job(customer)
    for _ in range(3):
        active_member()

    response = client.get(candidates_url(job.id, limit=2), headers=admin.headers)
    assert response.status_code == 200
    assert len(response.get_json()["items"]) == 2
    for bad in (0, 101, "many"):
        response = client.get(candidates_url(job.id, limit=bad), headers=admin.headers)
        assert response.status_code == 422
        assert response.content_type == "application/problem+json"
        assert "limit" in response.get_json()["errors"]["query"]


def test_members_already_offered_are_left_out_unless_asked_for(client, customer, cm):
    job = make_job(customer)
    offered = active_member()
    fresh = active_member()
    db.session.add(
        Offer(
            job_id=job.id,
            member_id=offered.profile_id,
            wave=1,
            status="declined",
            expires_at=datetime.now(UTC) + timedelta(minutes=15),
        )
    )
    db.session.flush()

    default = client.get(candidates_url(job.id), headers=cm.headers).get_json()
    everyone = client.get(candidates_url(job.id, include_offered="true"), headers=cm.headers)

    assert [i["member_id"] for i in default["items"]] == [fresh.profile_id]
    statuses = {i["member_id"]: i["offer_status"] for i in everyone.get_json()["items"]}
    assert statuses == {offered.profile_id: "declined", fresh.profile_id: None}


def test_candidates_need_staff(client, customer, member):
    job = make_job(customer)

    assert client.get(candidates_url(job.id)).status_code == 401
    for actor in (customer, member):
        response = client.get(candidates_url(job.id), headers=actor.headers)
        assert response.status_code == 403
        assert response.content_type == "application/problem+json"


def test_candidates_of_unknown_job_is_404(client, cm):
    response = client.get(candidates_url(999_999), headers=cm.headers)

    assert response.status_code == 404
    assert response.content_type == "application/problem+json"


def eligibility_url(job_id: int, member_id: int) -> str:
    return f"/api/v1/jobs/{job_id}/candidates/{member_id}/eligibility"


def test_eligibility_explains_why_a_member_is_not_a_candidate(client, customer, cm):
    job = make_job(customer, min_level_rank=2)
    member = active_member(level_rank=1)
    db.session.add(BlockedMember(customer_id=customer.profile_id, member_id=member.profile_id))
    db.session.flush()

    response = client.get(eligibility_url(job.id, member.profile_id), headers=cm.headers)

    assert response.status_code == 200
    assert response.get_json() == {
        "job_id": job.id,
        "member_id": member.profile_id,
        "eligible": False,
        "problems": [
            "Level rank 1 is below the job's minimum 2.",
            "The customer has blocked this member.",
        ],
        "offer_status": None,
    }


def test_eligibility_of_a_candidate_is_true_and_names_their_offer(client, customer, admin):
    job = make_job(customer)
    member = active_member()
    db.session.add(
        Offer(
            job_id=job.id,
            member_id=member.profile_id,
            wave=1,
            expires_at=datetime.now(UTC) + timedelta(minutes=15),
        )
    )
    db.session.flush()

    body = client.get(eligibility_url(job.id, member.profile_id), headers=admin.headers).get_json()

    assert body["eligible"] is True
    assert body["problems"] == []
    assert body["offer_status"] == "pending"


def test_eligibility_needs_staff_and_known_job_and_member(client, customer, member, cm):
    job = make_job(customer)
    somebody = active_member()
    url = eligibility_url(job.id, somebody.profile_id)

    assert client.get(url).status_code == 401
    assert client.get(url, headers=member.headers).status_code == 403
    assert client.get(url, headers=customer.headers).status_code == 403
    missing_job = client.get(eligibility_url(999_999, somebody.profile_id), headers=cm.headers)
    missing_member = client.get(eligibility_url(job.id, 999_999), headers=cm.headers)
    assert missing_job.status_code == missing_member.status_code == 404
    assert missing_member.content_type == "application/problem+json"


def test_ranking_reads_only(customer):
    job = make_job(customer)
    active_member()

    rank_candidates(job)

    assert not db.session.new and not db.session.dirty


def test_migrations_create_the_reach_index_matching_relies_on(on_postgres, db_session):
    from sqlalchemy import text

    names = db_session.scalars(
        text("SELECT indexname FROM pg_indexes WHERE tablename IN ('members', 'member_skills')")
    ).all()
    assert {"ix_members_reach", "ix_member_skills_verified", "ix_member_skills_reach"} <= set(names)
