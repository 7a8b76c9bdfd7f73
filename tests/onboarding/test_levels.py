"""Levels in motion: promotion on events, the daily run's promotions and demotions,
admission, compare-and-set, and the notifications of every change."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from crowd.core.db import utcnow
from crowd.core.errors import Conflict
from crowd.extensions import db
from jobs.models import Offer
from members.models import Member, MemberStats
from onboarding.levels.bulk import apply_chunk
from onboarding.levels.evaluation import (
    admit_member,
    evaluate_crowd,
    promote_on_event,
    survey_crowd,
)
from onboarding.levels.metrics import figures_pages, load_figures, stream_figures
from onboarding.levels.rules import active_ruleset
from onboarding.levels.targets import Ladder
from onboarding.models import LevelChange, LevelRuleset, MemberLevel
from tests.jobs.conftest import drain_background, post_job_via_api
from tests.jobs.test_reviews import finished_job, review
from tests.onboarding.test_levels_support import (
    API,
    MEMBER,
    STARTER,
    changes_of,
    default_ladder,  # noqa: F401  (fixture)
    level_notifications,
    put_ladder,
    rank_of,
    ranked_member,
    run_daily,
)

pytestmark = pytest.mark.usefixtures("default_ladder")


@pytest.fixture
def ladder(app, client, admin):
    """The test ladder (Starter; Member ≥ 10 jobs; Senior ≥ 50 jobs, ≤ 10 % cancelled)."""
    return put_ladder(app, client, admin)


def confirmed_job_via_api(app, client, customer, member) -> int:
    """Post a job, let `member` accept, start and complete it, and the customer confirm it."""
    posted = post_job_via_api(client, customer)
    assert posted.status_code == 201, posted.get_json()
    job_id = posted.get_json()["id"]
    drain_background(app)
    offer_id = db.session.scalar(
        select(Offer.id).where(Offer.job_id == job_id, Offer.member_id == member.profile_id)
    )
    for url in (f"{API}/offers/{offer_id}/accept", f"{API}/me/jobs/{job_id}/start"):
        assert client.post(url, headers=member.headers).status_code == 200
    report = {"notes": "Done.", "minutes_spent": 60, "parts": [], "photo_refs": []}
    done = client.post(f"{API}/me/jobs/{job_id}/complete", json=report, headers=member.headers)
    assert done.status_code == 200, done.get_json()
    confirmed = client.post(f"{API}/jobs/{job_id}/confirm", headers=customer.headers)
    assert confirmed.status_code == 200, confirmed.get_json()
    drain_background(app)
    return job_id


# --- events ---------------------------------------------------------------------------------


def test_a_confirmed_job_promotes_at_once(app, client, ladder, customer):
    member = ranked_member(1, jobs=9)  # the completion makes it 10

    job_id = confirmed_job_via_api(app, client, customer, member)

    assert rank_of(member) == 2
    [change] = changes_of(member)
    assert (change.from_rank, change.to_rank, change.from_code, change.to_code) == (
        1,
        2,
        "starter",
        "member",
    )
    assert (change.cause, change.detail) == ("event", f"job.confirmed:{job_id}")
    assert change.ruleset_version == ladder["version"]
    assert change.metrics["jobs_completed"] == 10
    standing = db.session.get(MemberLevel, member.profile_id)
    assert standing.promoted_at is not None and standing.level_since == standing.promoted_at
    [note] = level_notifications(member)
    assert note.title == "You are now Member"
    assert note.dedupe_key == f"level.changed:{change.id}"
    assert note.data == {
        "change_id": change.id,
        "from_rank": 1,
        "to_rank": 2,
        "from_code": "starter",
        "to_code": "member",
        "ruleset_version": ladder["version"],
        "cause": "event",
    }


def test_a_published_review_promotes_at_once(app, client, admin, customer):
    rated = [dict(STARTER), {**MEMBER, "requirements": [{"metric": "ratings_received", "min": 1}]}]
    put_ladder(app, client, admin, rated)
    member = ranked_member(1)
    job_id = finished_job(customer, member, status="confirmed")

    assert review(client, member, job_id, stars=4).status_code == 201
    assert rank_of(member) == 1  # hidden until both sides reviewed
    assert review(client, customer, job_id, stars=5).status_code == 201
    drain_background(app)

    assert rank_of(member) == 2
    [change] = changes_of(member)
    assert change.cause == "event" and change.detail.startswith("review.published:")
    assert len(level_notifications(member)) == 1


def test_an_event_never_demotes(app, client, ladder, customer):
    member = ranked_member(3, jobs=2)  # far below Senior, but events only promote

    confirmed_job_via_api(app, client, customer, member)

    assert rank_of(member) == 3
    assert changes_of(member) == []


def test_an_event_leaves_a_locked_member_alone(app, client, ladder, customer):
    member = ranked_member(1, jobs=30, locked=True)

    confirmed_job_via_api(app, client, customer, member)

    assert rank_of(member) == 1 and changes_of(member) == []


@pytest.mark.parametrize("status", ["suspended", "offboarded"])
def test_an_event_leaves_members_outside_the_crowd_alone(ladder, status):
    member = ranked_member(1, jobs=30, status=status)
    assert promote_on_event(member.profile_id, cause="training.completed:x") is None
    assert rank_of(member) == 1


def test_an_event_promotes_a_paused_member(ladder):
    member = ranked_member(1, jobs=12, status="paused")
    change = promote_on_event(member.profile_id, cause="training.completed:safety")
    assert (change.to_rank, change.detail) == (2, "training.completed:safety")


def test_an_event_for_an_applicant_does_nothing(member):
    assert promote_on_event(member.profile_id, cause="training.completed:x") is None
    assert rank_of(member) == 0


# --- admission ------------------------------------------------------------------------------


def test_admission_gives_the_entry_level_whatever_its_requirements(app, client, admin, cm, member):
    strict_entry = {**STARTER, "requirements": [{"metric": "jobs_completed", "min": 5}]}
    put_ladder(app, client, admin, [strict_entry, MEMBER])
    db.session.get(Member, member.profile_id).max_concurrent_jobs = 5
    db.session.commit()

    change = admit_member(member.profile_id, actor_user_id=cm.user_id)
    db.session.commit()
    drain_background(app)

    row = db.session.get(Member, member.profile_id)
    assert (row.level_rank, row.max_concurrent_jobs) == (1, 2)  # capped at Starter's 2
    assert (change.from_rank, change.from_code, change.to_rank, change.to_code) == (
        0,
        None,
        1,
        "starter",
    )
    assert (change.cause, change.changed_by_id) == ("approval", cm.user_id)
    standing = db.session.get(MemberLevel, member.profile_id)
    assert standing.active_since == standing.level_since and standing.promoted_at is None
    assert level_notifications(member)[0].title == "Welcome to the crowd: you are a Starter"


def test_a_member_is_admitted_once(cm):
    member = ranked_member(1)
    with pytest.raises(Conflict):
        admit_member(member.profile_id, actor_user_id=cm.user_id)


# --- the daily run --------------------------------------------------------------------------


def test_the_daily_run_promotes_and_demotes_and_records_why(app, ladder):
    climber = ranked_member(1, jobs=60)
    faller = ranked_member(3, jobs=12, cancelled=0, max_concurrent_jobs=7)
    steady = ranked_member(2, jobs=15)

    summary = run_daily(app)

    assert (rank_of(climber), rank_of(faller), rank_of(steady)) == (3, 2, 2)
    assert summary["promoted"] == 1 and summary["demoted"] == 1
    assert summary["evaluated"] >= 3 and summary["skipped"] == 0
    [up] = changes_of(climber)
    [down] = changes_of(faller)
    today = utcnow().date().isoformat()
    assert (up.cause, up.detail, up.to_code) == ("daily", f"daily:{today}", "senior")
    assert (down.from_code, down.to_code, down.cause) == ("senior", "member", "daily")
    assert down.metrics["jobs_completed"] == 12
    assert changes_of(steady) == []
    # Capacity capped at the new level's 4; the promoted member's stays as they chose it.
    assert db.session.get(Member, faller.profile_id).max_concurrent_jobs == 4
    assert db.session.get(Member, climber.profile_id).max_concurrent_jobs == 2
    [note] = level_notifications(faller)
    assert note.title == "Your level is now Member"
    assert note.data["change_id"] == down.id and note.data["cause"] == "daily"
    assert level_notifications(climber)[0].dedupe_key == f"level.changed:{up.id}"


def test_the_daily_run_twice_changes_nothing_the_second_time(app, ladder):
    ranked_member(1, jobs=60)
    ranked_member(3, jobs=5)
    first = run_daily(app)
    count = db.session.scalar(select(func.count(LevelChange.id)))

    second = run_daily(app)

    assert first["promoted"] + first["demoted"] == 2
    assert (second["promoted"], second["demoted"]) == (0, 0)
    assert db.session.scalar(select(func.count(LevelChange.id))) == count


@pytest.mark.parametrize(("jobs", "rank"), [(46, 3), (45, 3), (43, 2)])
def test_the_daily_run_demotes_only_below_90_percent(app, ladder, jobs, rank):
    member = ranked_member(3, jobs=jobs)  # Senior needs 50: 92 %, 90 %, 86 %
    run_daily(app)
    assert rank_of(member) == rank


@pytest.mark.parametrize(("cancelled", "rank"), [(11, 3), (13, 2)])
def test_the_daily_run_keeps_a_maximum_within_the_tolerance(app, ladder, cancelled, rank):
    # Senior allows 10 % cancelled; kept up to 11.1 %: 11 of 100 stays, 13 of 100 goes.
    member = ranked_member(3, jobs=100 - cancelled, cancelled=cancelled)
    member_stats = db.session.get(MemberStats, member.profile_id)
    member_stats.jobs_completed = 100 - cancelled
    db.session.commit()
    run_daily(app)
    assert rank_of(member) == rank


@pytest.mark.parametrize(("days", "rank"), [(10, 3), (15, 2)])
def test_the_daily_run_respects_the_grace_period(app, ladder, days, rank):
    member = ranked_member(3, jobs=20, promoted_days_ago=days)
    summary = run_daily(app)
    assert rank_of(member) == rank
    assert summary["in_grace"] == (1 if rank == 3 else 0)


def test_the_daily_run_leaves_a_locked_member_alone(app, ladder):
    member = ranked_member(3, jobs=0, locked=True)
    promotable = ranked_member(1, jobs=99, locked=True)
    summary = run_daily(app)
    assert (rank_of(member), rank_of(promotable)) == (3, 1)
    assert summary["locked"] == 2 and summary["skipped"] == 2


def test_the_daily_run_commits_chunk_by_chunk(app, ladder):
    members = [ranked_member(1, jobs=60) for _ in range(5)]

    summary = evaluate_crowd(chunk=2)

    drain_background(app)
    assert summary["promoted"] == 5
    assert [rank_of(m) for m in members] == [3] * 5
    assert all(len(level_notifications(m)) == 1 for m in members)


def test_the_daily_run_reads_the_crowd_window_by_window(app, ladder):
    members = [ranked_member(1, jobs=60) for _ in range(5)]
    demoted = ranked_member(2, jobs=0, promoted_days_ago=400)
    kept = ranked_member(3, jobs=60)
    ids = [m.profile_id for m in [*members, demoted, kept]]

    now = utcnow()
    windows = list(figures_pages(now, page=2))
    assert [f.member_id for w in windows for f in w] == [f.member_id for f in load_figures(now)]
    assert all(len(w) <= 2 for w in windows) and len(windows) >= (max(ids) - min(ids)) // 2
    summary = evaluate_crowd(chunk=3, page=2)

    assert (summary["promoted"], summary["demoted"]) == (5, 1)
    assert [rank_of(m) for m in members] == [3] * 5
    assert (rank_of(demoted), rank_of(kept)) == (1, 3)
    assert evaluate_crowd(chunk=3, page=2)["promoted"] == 0


@pytest.mark.committing
def test_the_crowds_figures_stream_across_commits_a_batch_at_a_time(app, ladder):
    members = [ranked_member(rank, jobs=10 * rank) for rank in (1, 2, 3, 1, 2)]
    now = utcnow()
    expected = list(load_figures(now))
    assert {f.member_id for f in expected} == {m.profile_id for m in members}

    read = []
    for batch in stream_figures(now, batch=2):
        assert 1 <= len(batch) <= 2
        read += batch
        db.session.commit()  # the read goes on (PostgreSQL: on a connection of its own)

    assert read == expected
    # Left early, the read closes its cursor and the session goes on.
    batches = stream_figures(now, batch=2)
    assert len(next(batches)) == 2
    batches.close()
    assert len(list(load_figures(now))) == len(expected)


@pytest.mark.committing
def test_a_failing_read_of_the_crowd_fails_its_caller(app, ladder, monkeypatch):
    from onboarding.levels import metrics

    for rank in (1, 2, 3):
        ranked_member(rank, jobs=10 * rank)
    real = metrics.figures_of
    seen = []

    def failing(row, now):
        seen.append(row)
        if len(seen) == 3:
            raise ValueError("bad row")
        return real(row, now)

    monkeypatch.setattr(metrics, "figures_of", failing)
    # On PostgreSQL the read runs on a thread of its own: its error reaches the caller.
    with pytest.raises(ValueError, match="bad row"):
        for _batch in stream_figures(utcnow(), batch=1):
            pass
    monkeypatch.setattr(metrics, "figures_of", real)
    assert len(list(load_figures(utcnow()))) == 3


def test_a_shorter_ladder_brings_higher_ranks_down_with_cause_ruleset(app, client, admin, ladder):
    senior = ranked_member(3, jobs=60, promoted_days_ago=1)
    member = ranked_member(2, jobs=60)

    put_ladder(app, client, admin, [STARTER, MEMBER])  # its evaluation runs at once

    assert (rank_of(senior), rank_of(member)) == (2, 2)
    [change] = changes_of(senior)
    assert (change.cause, change.from_code, change.to_code) == ("ruleset", None, "member")
    assert change.detail.startswith("ruleset.activated:v")


# --- compare-and-set ------------------------------------------------------------------------


def _survey_now():
    ladder = Ladder.of(active_ruleset())
    return ladder, survey_crowd(ladder, utcnow())


def test_a_change_made_meanwhile_is_not_overwritten(app, ladder, cm):
    raced = ranked_member(1, jobs=60)
    locked = ranked_member(1, jobs=60)
    plain = ranked_member(1, jobs=60)
    compiled, survey = _survey_now()
    # Between the survey and the write, an event promoted one and a CM locked another.
    db.session.get(Member, raced.profile_id).level_rank = 2
    db.session.get(MemberLevel, locked.profile_id).locked = True
    db.session.commit()

    applied = apply_chunk(survey.changes, compiled, cause="daily", detail="daily:x", now=utcnow())

    assert [d.member_id for d in applied] == [plain.profile_id]
    assert (rank_of(raced), rank_of(locked), rank_of(plain)) == (2, 1, 3)
    assert changes_of(raced) == [] and changes_of(locked) == []


def test_a_chunk_stops_when_its_rule_set_was_retired(app, ladder):
    member = ranked_member(1, jobs=60)
    compiled, survey = _survey_now()
    db.session.get(LevelRuleset, compiled.ruleset_id).status = "retired"
    db.session.flush()
    assert apply_chunk(survey.changes, compiled, cause="daily", detail="x", now=utcnow()) is None
    db.session.rollback()
    assert rank_of(member) == 1
