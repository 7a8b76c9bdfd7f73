"""Dry runs: a rule set (draft or active) evaluated over the whole crowd, nothing written — and
what it shows is exactly what the real run then does."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from crowd.core.background import OutboxMessage
from crowd.extensions import db
from members.models import Member
from onboarding.models import LevelChange, MemberLevel
from tests.jobs.conftest import drain_background
from tests.onboarding.test_levels_support import (
    MEMBER,
    RULESETS,
    SENIOR,
    STARTER,
    activate,
    changes_of,
    create_ruleset,
    default_ladder,  # noqa: F401  (fixture)
    put_ladder,
    rank_of,
    ranked_member,
    run_daily,
)

pytestmark = pytest.mark.usefixtures("default_ladder")

# The same ladder with a stricter Member level (20 jobs) and a lighter Senior one (40 jobs).
STRICTER = [
    STARTER,
    {**MEMBER, "requirements": [{"metric": "jobs_completed", "min": 20}]},
    {**SENIOR, "requirements": [{"metric": "jobs_completed", "min": 40}]},
]


@pytest.fixture
def crowd(app, client, admin):
    """The test ladder in force and members on every side of the proposed change."""
    put_ladder(app, client, admin)
    return {
        "climbs": ranked_member(2, jobs=42, display_name="Climbing Clara"),
        "falls": ranked_member(2, jobs=12),  # 12 of 20 = 60 %: below the 90 % kept
        "stays": ranked_member(2, jobs=19),  # 95 % of the new minimum: kept
        "grace": ranked_member(2, jobs=12, promoted_days_ago=3),
        "locked": ranked_member(2, jobs=60, locked=True),
        "paused": ranked_member(1, jobs=45, status="paused"),
        "suspended": ranked_member(1, jobs=45, status="suspended"),
    }


def dry_run(client, actor, ruleset_id, query=""):
    return client.post(f"{RULESETS}/{ruleset_id}/dry-run{query}", headers=actor.headers)


def test_a_draft_dry_run_shows_who_would_move_and_why(app, client, admin, cm, crowd):
    draft = create_ruleset(client, admin, STRICTER)

    response = dry_run(client, cm, draft["id"])

    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["ruleset_version"] == draft["version"] and body["truncated"] is False
    moves = {c["member_id"]: c for c in body["changes"]}
    climbs, falls = moves[crowd["climbs"].profile_id], moves[crowd["falls"].profile_id]
    assert (climbs["from_code"], climbs["to_code"], climbs["direction"]) == (
        "member",
        "senior",
        "up",
    )
    assert climbs["display_name"] == "Climbing Clara" and climbs["failing"] == []
    assert climbs["metrics"]["jobs_completed"] == 42
    assert (falls["to_rank"], falls["direction"], falls["failing"]) == (
        1,
        "down",
        ["jobs_completed"],
    )
    assert crowd["paused"].profile_id in moves  # paused members are evaluated too
    for name in ("stays", "grace", "locked", "suspended"):
        assert crowd[name].profile_id not in moves, name
    assert (body["promoted"], body["demoted"]) == (2, 1)
    assert (body["skipped_locked"], body["in_grace"]) == (1, 1)
    assert body["evaluated"] == body["promoted"] + body["demoted"] + body["unchanged"] + 1


def test_a_dry_run_writes_nothing(app, client, admin, cm, crowd):
    draft = create_ruleset(client, admin, STRICTER)
    before = {
        "changes": db.session.scalar(select(func.count(LevelChange.id))),
        "outbox": db.session.scalar(select(func.count(OutboxMessage.id))),
        "ranks": sorted(db.session.execute(select(Member.id, Member.level_rank)).all()),
        "standings": db.session.scalar(select(func.count(MemberLevel.member_id))),
    }

    assert dry_run(client, cm, draft["id"]).status_code == 200

    db.session.expire_all()
    assert before == {
        "changes": db.session.scalar(select(func.count(LevelChange.id))),
        "outbox": db.session.scalar(select(func.count(OutboxMessage.id))),
        "ranks": sorted(db.session.execute(select(Member.id, Member.level_rank)).all()),
        "standings": db.session.scalar(select(func.count(MemberLevel.member_id))),
    }


def test_the_real_run_does_exactly_what_the_dry_run_showed(app, client, admin, cm, crowd):
    draft = create_ruleset(client, admin, STRICTER)
    shown = dry_run(client, cm, draft["id"]).get_json()
    recorded_before = db.session.scalar(select(func.max(LevelChange.id))) or 0

    activate(client, admin, draft["id"])  # queues the full evaluation …
    drain_background(app)  # … which runs here (inline without Redis, by a worker with it)
    run_daily(app)  # and the daily run afterwards has nothing left to do

    db.session.expire_all()
    recorded = db.session.scalars(
        select(LevelChange).where(LevelChange.id > recorded_before).order_by(LevelChange.member_id)
    ).all()
    expected = sorted((c["member_id"], c["from_rank"], c["to_rank"]) for c in shown["changes"])
    assert [(c.member_id, c.from_rank, c.to_rank) for c in recorded] == expected
    assert {c.cause for c in recorded} == {"ruleset"}
    assert {c.ruleset_version for c in recorded} == {draft["version"]}


def test_a_dry_run_of_the_active_rule_set_matches_the_daily_run(app, client, cm, crowd):
    active = client.get(f"{RULESETS}/active", headers=cm.headers).get_json()
    extra = ranked_member(1, jobs=60)

    shown = dry_run(client, cm, active["id"]).get_json()
    summary = run_daily(app)

    assert [(c["member_id"], c["to_rank"]) for c in shown["changes"]] == [
        (crowd["paused"].profile_id, 2),
        (extra.profile_id, 3),
    ]
    assert (summary["promoted"], summary["demoted"]) == (shown["promoted"], shown["demoted"])
    assert rank_of(extra) == 3 and changes_of(extra)[0].cause == "daily"


def test_a_shorter_draft_shows_the_ranks_it_takes_away(client, admin, cm, crowd):
    senior = ranked_member(3, jobs=60)
    draft = create_ruleset(client, admin, [STARTER, MEMBER])

    body = dry_run(client, cm, draft["id"]).get_json()

    [change] = [c for c in body["changes"] if c["member_id"] == senior.profile_id]
    assert (change["from_code"], change["to_code"], change["clamped"]) == (None, "member", True)


def test_the_list_of_changes_is_limited(client, admin, cm, crowd):
    draft = create_ruleset(client, admin, STRICTER)
    body = dry_run(client, cm, draft["id"], "?limit=1").get_json()
    assert len(body["changes"]) == 1 and body["truncated"] is True
    assert body["promoted"] + body["demoted"] == 3


@pytest.mark.parametrize("limit", ["0", "5001", "many"])
def test_the_limit_is_checked(client, cm, limit):
    response = dry_run(client, cm, 1, f"?limit={limit}")
    assert response.status_code == 422
    assert "limit" in response.get_json()["errors"]["query"]


def test_a_dry_run_of_an_unknown_rule_set_is_404(client, cm):
    assert dry_run(client, cm, 424242).status_code == 404


def test_community_managers_and_admins_may_dry_run_but_not_members(client, admin, cm, crowd):
    draft = create_ruleset(client, admin, STRICTER)
    assert dry_run(client, admin, draft["id"]).status_code == 200
    assert dry_run(client, cm, draft["id"]).status_code == 200
    assert dry_run(client, crowd["stays"], draft["id"]).status_code == 403
    assert client.post(f"{RULESETS}/{draft['id']}/dry-run").status_code == 401
