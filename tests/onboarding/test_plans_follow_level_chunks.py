"""A chunk of level changes (the crowd-wide run's level.changes_recorded) moves plans set-based
exactly as the same changes one by one (level.changed): the same assignments, causes, reasons
and periods, the same notifications with their deliveries — compared twin by twin, each case
once through follow_level per change and once through follow_levels for the chunk."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from crowd.core.db import utcnow
from crowd.extensions import db
from notifications.models import Delivery, Notification
from onboarding.levels.changes import change_values
from onboarding.levels.defaults import ensure_ladder_plan
from onboarding.levels.plans import follow_level, follow_levels
from onboarding.levels.rules import find_active_ruleset
from onboarding.levels.targets import Ladder
from onboarding.models import LevelChange
from payouts import level_plans
from payouts.errors import PlanInactive
from payouts.models.plans import CommissionPlan, MemberPlan
from tests.onboarding.test_levels_support import (
    default_ladder,  # noqa: F401  (fixture)
    ranked_member,
)
from tests.sql_recorder import sql_statements

pytestmark = pytest.mark.usefixtures("default_ladder")

NOW = utcnow().replace(microsecond=0)
AGO = NOW - timedelta(days=30)
SOON = NOW + timedelta(days=10)

# (from rank, to rank, cause, the member's assignments before: (code, from, to)) — default
# ladder: starter 1 and member 2 on standard, senior 3 senior-15, expert 4 expert-10 (offers
# senior-15 too).
CASES = [
    (2, 3, "daily", []),  # promoted onto senior-15
    (2, 4, "daily", []),  # two levels up: expert-10
    (3, 4, "daily", [("senior-15", AGO, None)]),  # offered but dearer: expert-10
    (3, 4, "daily", [("five", AGO, None)]),  # a cheap plan expert does not offer: expert-10
    (3, 4, "daily", [("four", AGO, None)]),  # a cheaper plan expert offers: kept
    (4, 3, "daily", [("expert-10", AGO, None)]),  # demoted off expert-10: senior-15
    (3, 2, "daily", [("senior-15", AGO, None)]),  # demoted to member: standard
    (4, 3, "daily", [("senior-15", AGO, None)]),  # a plan senior offers: kept
    (3, 1, "daily", []),  # on standard, offered below: nothing
    (1, 2, "daily", []),  # member's default is standard, on it already: nothing
    (2, 3, "daily", [("five", SOON, None)]),  # a later change scheduled: runs until it
    (2, 3, "daily", [("five", AGO, SOON)]),  # a bounded period running now: cut short
    (3, 3, "ruleset", [("five", AGO, None)]),  # same rank, new rules: level_rules
    (0, 3, "approval", []),  # an admission to senior: admission
]


@pytest.fixture
def extra_plans(db_session):
    """ "five" (5 %) and "four" (4 %, which Expert offers too) beside the ladder's plans."""
    for code, bp in (("five", 500), ("four", 400)):
        db.session.add(
            CommissionPlan(code=code, name=f"{bp // 100} %", kind="percentage", percent_bp=bp)
        )
    for code in ("senior-15", "expert-10"):
        ensure_ladder_plan(code)
    ruleset = find_active_ruleset()
    [expert] = [level for level in ruleset.levels if level.code == "expert"]
    expert.plan_codes = ["senior-15", "expert-10", "four"]
    db.session.commit()


def _twin(from_rank: int, to_rank: int, cause: str, before: list) -> tuple[int, LevelChange]:
    """A member at `from_rank` with the assignments `before`, and their recorded change."""
    actor = ranked_member(max(from_rank, 1))
    for code, start, end in before:
        plan_id = db.session.scalar(select(CommissionPlan.id).where(CommissionPlan.code == code))
        db.session.add(
            MemberPlan(
                member_id=actor.profile_id, plan_id=plan_id, effective_from=start, effective_to=end
            )
        )
    ladder = Ladder.of(find_active_ruleset())
    change = LevelChange(
        **change_values(
            member_id=actor.profile_id,
            from_rank=from_rank,
            to_rank=to_rank,
            ladder=ladder,
            cause=cause,
            detail="test",
            metrics={},
            now=NOW,
        )
    )
    db.session.add(change)
    db.session.commit()
    return actor, change


def _when(moment, moved_at):
    """A time as the comparison sees it: a case's own times as they are, the move's as "now"."""
    if moment is None or moment in (AGO, SOON):
        return moment
    assert moment == moved_at
    return "now"


def _outcome(actor, change: LevelChange) -> dict:
    """Everything the plan's move left for the member, without ids and the moment it ran."""
    db.session.expire_all()
    rows = db.session.scalars(
        select(MemberPlan)
        .where(MemberPlan.member_id == actor.profile_id)
        .order_by(MemberPlan.effective_from, MemberPlan.id)
    ).all()
    moved = [row for row in rows if row.level_change_id is not None]
    assert len(moved) <= 1
    moved_at = moved[0].effective_from if moved else None
    notes = db.session.scalars(
        select(Notification)
        .where(Notification.user_id == actor.user_id, Notification.kind == "plan.changed")
        .order_by(Notification.id)
    ).all()
    return {
        "assignments": [
            (
                row.plan.code,
                row.cause,
                row.reason,
                row.level_change_id == change.id if row.level_change_id else None,
                row.assigned_by_id,
                _when(row.effective_from, moved_at),
                _when(row.effective_to, moved_at),
            )
            for row in rows
        ],
        "notifications": [
            (
                note.title,
                note.body,
                note.dedupe_key == f"plan.changed:{moved[0].id}",
                {**note.data, "level_change_id": note.data["level_change_id"] == change.id},
                sorted(
                    (d.channel, d.status, d.kind)
                    for d in db.session.scalars(
                        select(Delivery).where(Delivery.notification_id == note.id)
                    )
                ),
            )
            for note in notes
        ],
    }


@pytest.mark.usefixtures("extra_plans")
def test_a_chunk_moves_plans_and_tells_members_exactly_as_one_change_at_a_time():
    singles = [_twin(*case) for case in CASES]
    chunked = [_twin(*case) for case in CASES]

    for _actor, change in singles:
        follow_level(db.session.get(LevelChange, change.id))
    db.session.commit()
    assert follow_levels([change.id for _actor, change in chunked]) == 10
    db.session.commit()

    for case, single, chunk in zip(CASES, singles, chunked, strict=True):
        assert _outcome(*chunk) == _outcome(*single), case
    # The cases do what they say (a few spot checks; the rest is the comparison above).
    moves = [_outcome(*twin)["assignments"] for twin in chunked]
    assert moves[0] == [("senior-15", "promotion", moves[0][0][2], True, None, "now", None)]
    assert moves[4] == [("four", None, None, None, None, AGO, None)]
    assert moves[10][0][-2:] == ("now", SOON) and moves[10][1][0] == "five"
    assert [row[-2:] for row in moves[11]] == [(AGO, "now"), ("now", None)]
    assert moves[12][-1][1] == "level_rules" and moves[13][-1][1] == "admission"
    assert len(_outcome(*chunked[0])["notifications"]) == 1
    assert _outcome(*chunked[4])["notifications"] == []


@pytest.mark.usefixtures("extra_plans")
def test_a_chunk_costs_the_same_statements_whatever_its_size():
    def statements(size: int) -> int:
        twins = [_twin(2, 3, "daily", []) for _ in range(size)] + [
            _twin(4, 3, "daily", [("expert-10", AGO, None)]) for _ in range(size)
        ]
        change_ids = [change.id for _actor, change in twins]
        with sql_statements() as sent:
            assert follow_levels(change_ids) == 2 * size
        db.session.commit()
        return len(sent)

    assert statements(2) == statements(8) <= 20


@pytest.mark.usefixtures("extra_plans")
def test_a_chunk_moving_members_to_an_inactive_plan_fails_as_one_change_does():
    db.session.scalar(
        select(CommissionPlan).where(CommissionPlan.code == "senior-15")
    ).active = False
    db.session.commit()
    _actor, single = _twin(2, 3, "daily", [])
    _actor, chunked = _twin(2, 3, "daily", [])

    with pytest.raises(PlanInactive):
        follow_level(db.session.get(LevelChange, single.id))
    db.session.rollback()
    with pytest.raises(PlanInactive):
        follow_levels([chunked.id])
    db.session.rollback()


def test_plans_at_is_plan_for_of_many(db_session):
    from payouts import plans

    actors = [ranked_member(2) for _ in range(3)]
    plans.follow_level(member_id=actors[0].profile_id, plan_code="senior-15", cause="promotion")
    db.session.commit()
    at = utcnow()
    found = level_plans.plans_at([a.profile_id for a in actors], at)
    assert {k: v.code for k, v in found.items()} == {
        a.profile_id: plans.plan_for(a.profile_id, at).code for a in actors
    }
    assert found[actors[0].profile_id].code == "senior-15"
