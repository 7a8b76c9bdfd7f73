"""Helpers for the level tests (members at a given standing, ladders through the API), and the
rules of the pure target function, checked without a database."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from crowd.core.db import commit, utcnow
from crowd.extensions import db
from members.models import Member, MemberStats
from notifications.models import Notification
from onboarding.levels.metrics import MemberFigures, meets
from onboarding.levels.rules import install_default_ruleset
from onboarding.levels.targets import Ladder, Rung, all_met, compile_checks, decide
from onboarding.models import LevelChange, MemberLevel
from onboarding.tasks.levels import evaluate_levels
from tests.factories import Actor
from tests.jobs.conftest import active_member, drain_background

API = "/api/v1"
RULESETS = f"{API}/level-rulesets"

# A small ladder whose thresholds are easy to reason about in tests.
STARTER = {"rank": 1, "code": "starter", "name": "Starter", "max_concurrent_jobs": 2}
MEMBER = {
    "rank": 2,
    "code": "member",
    "name": "Member",
    "requirements": [{"metric": "jobs_completed", "min": 10}],
    "max_concurrent_jobs": 4,
}
SENIOR = {
    "rank": 3,
    "code": "senior",
    "name": "Senior",
    "requirements": [
        {"metric": "jobs_completed", "min": 50},
        {"metric": "cancellation_rate", "max": 0.1},
    ],
    "max_concurrent_jobs": 8,
}
LADDER = [STARTER, MEMBER, SENIOR]


@pytest.fixture
def default_ladder(db_session):
    """The migration's default ladder, back in place if a committing test emptied the tables."""
    ruleset = install_default_ruleset()
    db.session.commit()
    return ruleset


def ruleset_body(levels=None, **settings) -> dict:
    return {"note": "test ladder", "levels": levels or LADDER, **settings}


def create_ruleset(client, admin: Actor, levels=None, **settings) -> dict:
    response = client.post(RULESETS, json=ruleset_body(levels, **settings), headers=admin.headers)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def activate(client, admin: Actor, ruleset_id: int) -> dict:
    response = client.post(f"{RULESETS}/{ruleset_id}/activate", headers=admin.headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def put_ladder(app, client, admin: Actor, levels=None, **settings) -> dict:
    """Create and activate a ladder through the API; its evaluation runs (and is drained)."""
    ruleset = create_ruleset(client, admin, levels, **settings)
    activated = activate(client, admin, ruleset["id"])
    drain_background(app)
    db.session.expire_all()
    return activated


def ranked_member(
    rank: int = 1,
    *,
    jobs: int = 0,
    cancelled: int = 0,
    ratings: tuple[int, int] = (0, 0),
    tenure_days: int = 400,
    promoted_days_ago: float | None = None,
    locked: bool = False,
    status: str = "active",
    max_concurrent_jobs: int = 2,
    **profile,
) -> Actor:
    """An active member at `rank` with these counters and standing (committed)."""
    actor = active_member(level_rank=rank, max_concurrent_jobs=max_concurrent_jobs, **profile)
    now = utcnow()
    stats = db.session.get(MemberStats, actor.profile_id)
    stats.jobs_completed, stats.jobs_cancelled = jobs, cancelled
    stats.rating_count, stats.rating_sum = ratings
    db.session.add(
        MemberLevel(
            member_id=actor.profile_id,
            active_since=now - timedelta(days=tenure_days),
            level_since=now - timedelta(days=tenure_days),
            promoted_at=now - timedelta(days=promoted_days_ago)
            if promoted_days_ago is not None
            else None,
            locked=locked,
            lock_reason="test lock" if locked else None,
        )
    )
    db.session.get(Member, actor.profile_id).status = status
    db.session.commit()
    return actor


def rank_of(actor: Actor) -> int:
    db.session.expire_all()
    return db.session.get(Member, actor.profile_id).level_rank


def changes_of(actor: Actor) -> list[LevelChange]:
    db.session.expire_all()
    query = select(LevelChange).where(LevelChange.member_id == actor.profile_id)
    return list(db.session.scalars(query.order_by(LevelChange.id)))


def level_notifications(actor: Actor) -> list[Notification]:
    db.session.expire_all()
    query = select(Notification).where(
        Notification.user_id == actor.user_id, Notification.kind == "level.changed"
    )
    return list(db.session.scalars(query.order_by(Notification.id)))


def run_daily(app, **kwargs) -> dict:
    """Run the daily task as a worker would, then whatever it queued."""
    summary = evaluate_levels(**kwargs)
    commit()
    drain_background(app)
    db.session.expire_all()
    return summary


# --- the target function, without a database ------------------------------------------------

NOW = datetime(2026, 11, 21, 3, 0, tzinfo=UTC)
PURE = Ladder(
    ruleset_id=1,
    version=7,
    tolerance_percent=90,
    grace_days=14,
    rungs=(
        Rung(1, "starter", "Starter", 2, ()),
        Rung(2, "member", "Member", 4, ({"metric": "jobs_completed", "min": 10},)),
        Rung(
            3,
            "senior",
            "Senior",
            8,
            (
                {"metric": "jobs_completed", "min": 50},
                {"metric": "cancellation_rate", "max": 0.1},
            ),
        ),
    ),
)


def figures(rank: int, *, jobs=0, cancellation=None, promoted_days_ago=None, locked=False):
    promoted = NOW - timedelta(days=promoted_days_ago) if promoted_days_ago is not None else None
    return MemberFigures(
        member_id=1,
        status="active",
        level_rank=rank,
        locked=locked,
        promoted_at=promoted,
        metrics={"jobs_completed": jobs, "cancellation_rate": cancellation},
    )


def test_a_member_climbs_every_level_met_at_once():
    decision = decide(figures(1, jobs=60, cancellation=0.02), PURE, NOW)
    assert (decision.outcome, decision.to_rank, decision.direction) == ("promote", 3, "up")


def test_climbing_stops_at_the_first_level_not_met_in_full():
    # Senior's job count is met, its cancellation rate is not: Member only.
    decision = decide(figures(1, jobs=60, cancellation=0.2), PURE, NOW)
    assert decision.to_rank == 2


def test_a_minimum_met_to_92_percent_keeps_the_level():
    assert decide(figures(3, jobs=46, cancellation=0.0), PURE, NOW).outcome == "unchanged"


def test_a_minimum_met_to_exactly_90_percent_keeps_the_level():
    assert decide(figures(3, jobs=45, cancellation=0.0), PURE, NOW).outcome == "unchanged"


def test_a_minimum_met_to_85_percent_costs_the_level():
    decision = decide(figures(3, jobs=43, cancellation=0.0), PURE, NOW)
    assert (decision.outcome, decision.to_rank, decision.failing) == (
        "demote",
        2,
        ("jobs_completed",),
    )


def test_a_maximum_is_kept_up_to_it_divided_by_the_tolerance():
    # 0.1 / 0.9 = 0.111…: 0.11 keeps Senior, 0.12 does not.
    assert decide(figures(3, jobs=60, cancellation=0.11), PURE, NOW).outcome == "unchanged"
    decision = decide(figures(3, jobs=60, cancellation=0.12), PURE, NOW)
    assert (decision.to_rank, decision.failing) == (2, ("cancellation_rate",))


def test_no_data_fails_a_minimum_and_passes_a_maximum():
    assert decide(figures(1, jobs=60, cancellation=None), PURE, NOW).to_rank == 3


def test_demotion_goes_down_to_the_highest_level_still_kept():
    decision = decide(figures(3, jobs=3, cancellation=0.0), PURE, NOW)
    assert decision.to_rank == 1
    assert decision.failing == ("jobs_completed",)


def test_nobody_goes_below_the_entry_level():
    entry = Rung(1, "starter", "Starter", 2, ({"metric": "jobs_completed", "min": 1},))
    strict_entry = replace(PURE, rungs=(entry,))
    assert decide(figures(1, jobs=0), strict_entry, NOW).outcome == "unchanged"


@pytest.mark.parametrize(("days", "outcome"), [(10, "grace"), (13.9, "grace"), (15, "demote")])
def test_no_demotion_within_the_grace_period_after_a_promotion(days, outcome):
    decision = decide(figures(3, jobs=20, cancellation=0.0, promoted_days_ago=days), PURE, NOW)
    assert decision.outcome == outcome


def test_grace_never_holds_back_a_promotion():
    decision = decide(figures(2, jobs=60, cancellation=0.0, promoted_days_ago=1), PURE, NOW)
    assert decision.to_rank == 3


def test_a_locked_member_stays_whatever_the_figures():
    assert decide(figures(3, jobs=0, locked=True), PURE, NOW).outcome == "locked"
    assert decide(figures(1, jobs=99, locked=True), PURE, NOW).outcome == "locked"


def test_applicants_are_never_evaluated():
    assert decide(figures(0, jobs=99), PURE, NOW).outcome == "unranked"


def test_the_event_check_never_demotes():
    decision = decide(figures(3, jobs=0), PURE, NOW, promote_only=True)
    assert (decision.outcome, decision.changed) == ("unchanged", False)
    assert decide(figures(5, jobs=0), PURE, NOW, promote_only=True).changed is False


def test_a_rank_above_the_top_comes_down_to_the_top_even_in_grace():
    decision = decide(figures(5, jobs=0, promoted_days_ago=1), PURE, NOW)
    assert (decision.to_rank, decision.clamped, decision.direction) == (3, True, "down")


def test_a_rank_above_the_top_goes_further_down_when_not_kept_and_not_in_grace():
    decision = decide(figures(5, jobs=12, cancellation=0.0), PURE, NOW)
    assert (decision.to_rank, decision.clamped) == (2, True)
    assert decide(figures(4, jobs=60, cancellation=0.0), PURE, NOW).to_rank == 3


def test_compiled_checks_agree_with_meets_on_every_edge():
    values = [None, 0, 0.05, 0.09, 0.1, 0.111, 0.1111112, 0.12, 3.87, 4.3, 9, 9.0, 10, 45, 50, 51]
    rules = [
        {"metric": "m", "min": 10},
        {"metric": "m", "min": 50},
        {"metric": "m", "min": 4.3},
        {"metric": "m", "max": 0.1},
        {"metric": "m", "max": 0},
    ]
    for tolerance in (100, 90, 75):
        for rule in rules:
            checks = compile_checks([rule], tolerance)
            for value in values:
                expected = meets(value, rule, tolerance_percent=tolerance)
                assert all_met({"m": value}, checks, tolerance) == expected, (rule, value)
