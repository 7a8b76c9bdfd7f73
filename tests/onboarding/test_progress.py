"""Transparency: GET /me/level (where a member stands, what keeps the level, what the next one
needs) and GET /levels (the ladder), under the default ladder of rule set version 1."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import delete

from crowd.core.db import utcnow
from crowd.extensions import db
from members.models import Member, MemberStats
from onboarding.levels.progress import level_overview
from onboarding.models import MemberLevel
from tests.jobs.conftest import active_member

ME_LEVEL = "/api/v1/me/level"
LEVELS = "/api/v1/levels"


def standing(actor, *, rank: int, tenure_days: int = 100, promoted_days_ago=None, **counters):
    """Put the member at `rank` with these counters (MemberStats columns) and tenure."""
    member = db.session.get(Member, actor.profile_id)
    member.level_rank = rank
    stats = db.session.get(MemberStats, member.id)
    for name, value in counters.items():
        setattr(stats, name, value)
    now = utcnow()
    db.session.add(
        MemberLevel(
            member_id=member.id,
            active_since=now - timedelta(days=tenure_days, hours=1),
            level_since=now - timedelta(days=tenure_days),
            promoted_at=now - timedelta(days=promoted_days_ago) if promoted_days_ago else None,
        )
    )
    db.session.commit()


def my_level(client, actor) -> dict:
    response = client.get(ME_LEVEL, headers=actor.headers)
    assert response.status_code == 200, response.json
    return response.json


def by_metric(entries: list[dict]) -> dict[str, dict]:
    return {entry["metric"]: entry for entry in entries}


# A "Member" (rank 2) on the way to Senior: 40 of 50 jobs, 4.5 of 4.6 stars, no offers yet.
ON_THE_WAY = {
    "jobs_completed": 40,
    "jobs_cancelled": 1,
    "rating_count": 20,
    "rating_sum": 90,
}


def test_member_sees_level_privileges_figures_and_ladder(client):
    actor = active_member()
    standing(actor, rank=2, **ON_THE_WAY)

    body = my_level(client, actor)

    assert body["member_id"] == actor.profile_id
    assert body["ruleset_version"] == 1
    assert body["level"] == {
        "rank": 2,
        "code": "member",
        "name": "Member",
        "privileges": {
            "max_concurrent_jobs": 5,
            "job_min_level_up_to": 2,
            "categories": None,
            "plan_codes": ["standard"],
        },
    }
    assert body["hint"] is None
    assert body["locked"] is False and body["lock_reason"] is None
    assert body["metrics"]["jobs_completed"] == 40
    assert body["metrics"]["average_rating"] == 4.5
    assert body["metrics"]["cancellation_rate"] == round(1 / 41, 4)
    assert body["metrics"]["acceptance_rate"] is None
    assert body["metrics"]["tenure_days"] == 100
    assert body["metrics"]["verified_skills"] == 1  # active_member's verified tv_wall_mount
    assert [step["code"] for step in body["ladder"]] == ["starter", "member", "senior", "expert"]


def test_next_level_shows_gap_and_progress_per_requirement(client):
    actor = active_member()
    standing(actor, rank=2, **ON_THE_WAY)

    nxt = my_level(client, actor)["next_level"]

    assert (nxt["rank"], nxt["code"], nxt["name"]) == (3, "senior", "Senior")
    rules = by_metric(nxt["requirements"])
    assert set(rules) == {
        "jobs_completed",
        "ratings_received",
        "average_rating",
        "cancellation_rate",
        "acceptance_rate",
        "dispute_rate",
        "tenure_days",
        "verified_skills",
        "training_modules",
    }
    jobs = rules["jobs_completed"]
    assert jobs == {
        "level": "senior",
        "metric": "jobs_completed",
        "kind": "count",
        "min": 50,
        "required": 50,
        "current": 40,
        "met": False,
        "gap": 10,
        "progress_percent": 80,
    }
    assert rules["ratings_received"]["met"] is True
    assert rules["ratings_received"]["gap"] == 0
    assert rules["ratings_received"]["progress_percent"] == 100
    rating = rules["average_rating"]
    assert (rating["met"], rating["gap"], rating["progress_percent"]) == (False, 0.1, 97)
    # A maximum met: gap 0, full bar.
    cancel = rules["cancellation_rate"]
    assert (cancel["max"], cancel["met"], cancel["gap"]) == (0.05, True, 0)
    assert "min" not in cancel
    # No offers answered yet: no acceptance rate, so the minimum is not met and the gap unknown.
    accept = rules["acceptance_rate"]
    assert (accept["current"], accept["met"], accept["gap"], accept["progress_percent"]) == (
        None,
        False,
        None,
        0,
    )
    # No jobs disputed of 40: a rate of 0 meets the maximum.
    assert rules["dispute_rate"]["met"] is True
    assert rules["tenure_days"]["gap"] == 80
    assert rules["verified_skills"]["progress_percent"] == 50
    assert rules["training_modules"]["progress_percent"] == 0
    assert nxt["met_count"] == 3 and nxt["total"] == 9


def test_a_maximum_exceeded_shows_how_far_above_it_is(client):
    actor = active_member()
    # 3 cancelled of 20 taken: 0.15 > 0.1 allowed by Member.
    standing(actor, rank=1, jobs_completed=17, jobs_cancelled=3, rating_count=6, rating_sum=27)

    rules = by_metric(my_level(client, actor)["next_level"]["requirements"])

    cancel = rules["cancellation_rate"]
    assert cancel["current"] == 0.15 and cancel["met"] is False
    assert cancel["gap"] == 0.05
    assert cancel["progress_percent"] == 66  # 0.1 / 0.15


def test_keep_lists_what_holds_the_level_with_the_demotion_threshold(client):
    actor = active_member()
    standing(actor, rank=2, **ON_THE_WAY)

    keep = by_metric(my_level(client, actor)["keep"])

    assert set(keep) == {
        "jobs_completed",
        "ratings_received",
        "average_rating",
        "cancellation_rate",
        "tenure_days",
    }
    assert keep["jobs_completed"] == {
        "level": "member",
        "metric": "jobs_completed",
        "kind": "count",
        "min": 10,
        "required": 10,
        "keep_threshold": 9,
        "current": 40,
        "met": True,
        "kept": True,
        "at_risk": False,
    }
    assert keep["average_rating"]["keep_threshold"] == pytest.approx(4.3 * 0.9)
    assert keep["cancellation_rate"]["keep_threshold"] == pytest.approx(0.1 / 0.9, abs=1e-4)


def test_requirements_met_only_within_the_tolerance_are_at_risk(client):
    actor = active_member()
    # 9 jobs of the 10 Member needs: 90 %, kept; cancellation 1 of 10 taken → 0.1, met.
    standing(actor, rank=2, jobs_completed=9, jobs_cancelled=1, rating_count=6, rating_sum=27)

    keep = by_metric(my_level(client, actor)["keep"])

    assert keep["jobs_completed"]["met"] is False
    assert keep["jobs_completed"]["kept"] is True
    assert keep["jobs_completed"]["at_risk"] is True
    assert keep["cancellation_rate"]["at_risk"] is False


def test_a_requirement_below_the_tolerance_is_neither_kept_nor_at_risk(client):
    actor = active_member()
    standing(actor, rank=2, jobs_completed=8, rating_count=6, rating_sum=27)

    jobs = by_metric(my_level(client, actor)["keep"])["jobs_completed"]

    assert (jobs["met"], jobs["kept"], jobs["at_risk"]) == (False, False, False)


def test_a_maximum_within_the_tolerance_is_at_risk(client):
    actor = active_member()
    # 21 cancelled of 200 taken: 0.105, above 0.1 but within 0.1 / 0.9.
    standing(actor, rank=2, jobs_completed=179, jobs_cancelled=21, rating_count=60, rating_sum=270)

    cancel = by_metric(my_level(client, actor)["keep"])["cancellation_rate"]

    assert cancel["current"] == 0.105
    assert (cancel["met"], cancel["kept"], cancel["at_risk"]) == (False, True, True)


def test_the_entry_level_needs_nothing_to_keep(client):
    actor = active_member()
    standing(actor, rank=1)

    body = my_level(client, actor)

    assert body["level"]["code"] == "starter"
    assert body["keep"] == []
    assert body["next_level"]["code"] == "member"


def test_at_the_top_there_is_no_next_level(client):
    actor = active_member()
    standing(actor, rank=4, tenure_days=400, jobs_completed=250, rating_count=100, rating_sum=490)

    body = my_level(client, actor)

    assert body["level"]["code"] == "expert"
    assert body["level"]["privileges"]["max_concurrent_jobs"] == 12
    assert body["next_level"] is None
    # Expert's keep covers every metric the ladder uses, each at its strictest.
    keep = by_metric(body["keep"])
    assert keep["jobs_completed"]["required"] == 200
    assert keep["jobs_completed"]["level"] == "expert"
    assert "disputes_lost" in keep


def test_applicant_has_no_level_and_a_hint_about_approval(client, member):
    body = my_level(client, member)

    assert body["status"] == "applicant"
    assert body["level"] is None
    assert "Starter" in body["hint"] and "approval" in body["hint"]
    assert body["keep"] == []
    assert body["next_level"]["code"] == "starter"
    assert body["level_since"] is None and body["grace_until"] is None


def test_a_recent_promotion_shows_the_grace_period(client):
    actor = active_member()
    standing(actor, rank=2, promoted_days_ago=3, **ON_THE_WAY)

    body = my_level(client, actor)

    promoted = body["promoted_at"]
    grace = body["grace_until"]
    gap = datetime.fromisoformat(grace) - datetime.fromisoformat(promoted)
    assert gap == timedelta(days=14)


def test_a_locked_level_says_so_with_the_reason(client):
    actor = active_member()
    standing(actor, rank=2, **ON_THE_WAY)
    row = db.session.get(MemberLevel, actor.profile_id)
    row.locked, row.lock_reason = True, "Probation after a complaint"
    db.session.commit()

    body = my_level(client, actor)

    assert body["locked"] is True
    assert body["lock_reason"] == "Probation after a complaint"


def test_a_suspended_members_level_is_frozen(client):
    actor = active_member()
    standing(actor, rank=2, **ON_THE_WAY)
    db.session.get(Member, actor.profile_id).status = "suspended"
    db.session.commit()

    body = my_level(client, actor)

    assert body["level"]["code"] == "member"
    assert "suspended" in body["hint"]


def test_level_overview_of_an_unknown_member_is_not_found():
    from crowd.core.errors import NotFound

    with pytest.raises(NotFound):
        level_overview(999_999)


def test_me_level_is_for_members(client, customer, cm):
    assert client.get(ME_LEVEL).status_code == 401
    for actor in (customer, cm):
        response = client.get(ME_LEVEL, headers=actor.headers)
        assert response.status_code == 403
        assert response.mimetype == "application/problem+json"


# --- the ladder -----------------------------------------------------------------------------


def test_anyone_signed_in_reads_the_ladder_with_requirements_and_privileges(
    client, customer, member, cm
):
    for actor in (customer, member, cm):
        response = client.get(LEVELS, headers=actor.headers)
        assert response.status_code == 200, response.json
    body = response.json
    assert body["ruleset_version"] == 1
    assert body["demotion_tolerance_percent"] == 90 and body["grace_days"] == 14
    levels = {level["code"]: level for level in body["levels"]}
    assert list(levels) == ["starter", "member", "senior", "expert"]
    assert levels["starter"]["requirements"] == []
    senior = by_metric(levels["senior"]["requirements"])
    assert senior["jobs_completed"]["min"] == 50
    assert senior["cancellation_rate"]["max"] == 0.05
    assert senior["training_modules"]["description"] == "Training modules completed."
    assert senior["average_rating"]["kind"] == "rating"
    assert levels["expert"]["privileges"]["job_min_level_up_to"] == 4


def test_the_ladder_needs_a_token(client):
    response = client.get(LEVELS)
    assert response.status_code == 401


def test_a_member_without_stats_row_still_gets_an_overview(client, member):
    # Without a counters row everything counts as zero or no data.
    db.session.execute(delete(MemberStats).where(MemberStats.member_id == member.profile_id))
    db.session.commit()
    body = my_level(client, member)
    assert body["metrics"]["jobs_completed"] == 0
    assert body["metrics"]["average_rating"] is None
