"""Issue 19: the commission plan follows the level (default ladder: Senior 15 %, Expert 10 %)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from crowd.core.db import utcnow
from crowd.extensions import db
from notifications.models import Notification
from onboarding.levels.defaults import DEFAULT_LEVELS
from onboarding.levels.plans import follow_rules
from onboarding.models import Level, LevelRuleset
from payouts import plans
from payouts.models import LedgerEntry
from payouts.models.plans import MemberPlan
from tests.onboarding.test_levels_support import (
    API,
    changes_of,
    default_ladder,  # noqa: F401  (fixture)
    put_ladder,
    ranked_member,
)
from tests.payouts.job_money_helpers import (
    completed_job,
    confirm,
    confirmed_job,
    lines,
    payment,
    transactions,
)

pytestmark = pytest.mark.usefixtures("default_ladder")


def set_level(client, cm, member, level):
    response = client.post(
        f"{API}/members/{member.profile_id}/level/lock",
        json={"level": level, "reason": "Set by hand for the test"},
        headers=cm.headers,
    )
    assert response.status_code == 200, response.get_json()


def plan_now(member) -> str:
    db.session.expire_all()
    return plans.plan_for(member.profile_id, utcnow()).code


def assignments(member) -> list[MemberPlan]:
    query = select(MemberPlan).where(MemberPlan.member_id == member.profile_id)
    return list(db.session.scalars(query.order_by(MemberPlan.effective_from, MemberPlan.id)))


def plan_notifications(member) -> list[Notification]:
    query = select(Notification).where(
        Notification.user_id == member.user_id, Notification.kind == "plan.changed"
    )
    return list(db.session.scalars(query.order_by(Notification.id)))


def test_a_promotion_moves_the_member_to_the_levels_default_plan(client, cm):
    member = ranked_member(2)
    assert plan_now(member) == "standard"

    set_level(client, cm, member, "senior")

    assert plan_now(member) == "senior-15"
    [change] = changes_of(member)
    [assignment] = assignments(member)
    assert (assignment.cause, assignment.level_change_id) == ("promotion", change.id)
    [note] = plan_notifications(member)
    assert note.data["plan_code"] == "senior-15" and note.data["cause"] == "promotion"
    assert note.data["previous_plan_code"] == "standard" and "Senior" in note.body


def test_down_to_the_levels_default_and_up_again_to_the_cheaper_default(client, cm):
    member = ranked_member(4)
    set_level(client, cm, member, "expert")  # no change: already Expert
    plans.follow_level(member_id=member.profile_id, plan_code="expert-10", cause="promotion")
    db.session.commit()
    # Down to Senior: expert-10 is not offered there, senior-15 is its default.
    set_level(client, cm, member, "senior")
    assert plan_now(member) == "senior-15"
    assert assignments(member)[-1].cause == "demotion"
    # Expert again: the default expert-10 is cheaper than senior-15, so they move.
    client.delete(f"{API}/members/{member.profile_id}/level/lock", headers=cm.headers)
    set_level(client, cm, member, "expert")
    assert plan_now(member) == "expert-10"


def test_a_promotion_leaves_a_cheaper_offered_plan_alone(client, cm, admin):
    member = ranked_member(3)
    # On senior-15 already; a Senior promoted to Expert who holds a plan cheaper than Expert's
    # default keeps it: here a 5 % plan the Expert level offers as well.
    cheap = client.post(
        "/api/v1/plans",
        json={"code": "five", "name": "5 %", "kind": "percentage", "percent_bp": 500},
        headers=admin.headers,
    )
    assert cheap.status_code == 201, cheap.get_json()
    expert = db.session.scalar(
        select(Level)
        .join(LevelRuleset)
        .where(LevelRuleset.status == "active", Level.code == "expert")
    )
    expert.plan_codes = ["senior-15", "expert-10", "five"]
    plans.follow_level(member_id=member.profile_id, plan_code="five", cause="promotion")
    db.session.commit()

    set_level(client, cm, member, "expert")

    assert plan_now(member) == "five"
    assert plan_notifications(member) == []


def test_a_demotion_moves_a_member_off_a_plan_the_level_does_not_offer(client, cm):
    member = ranked_member(2)
    set_level(client, cm, member, "senior")
    client.delete(f"{API}/members/{member.profile_id}/level/lock", headers=cm.headers)

    set_level(client, cm, member, "member")

    assert plan_now(member) == "standard"
    causes = [a.cause for a in assignments(member)]
    assert causes == ["promotion", "demotion"]
    demotion = assignments(member)[-1]
    assert demotion.level_change_id == max(c.id for c in changes_of(member))
    assert [n.data["cause"] for n in plan_notifications(member)] == ["promotion", "demotion"]


def test_a_demotion_keeps_a_plan_the_new_level_offers(client, cm):
    member = ranked_member(4)
    plans.follow_level(member_id=member.profile_id, plan_code="senior-15", cause="promotion")
    db.session.commit()

    set_level(client, cm, member, "senior")

    assert plan_now(member) == "senior-15"
    assert len(assignments(member)) == 1 and plan_notifications(member) == []


def test_jobs_are_settled_at_the_commission_of_the_level(app, client, customer, cm):
    member = ranked_member(2)
    set_level(client, cm, member, "senior")
    job_id, _ = confirmed_job(app, client, customer, cm, member)
    price = payment(job_id).amount_captured
    [settled] = transactions(job_id)
    assert lines(settled)["platform:revenue"] == -(price * 15 // 100)
    assert payment(job_id).plan_code == "senior-15"

    client.delete(f"{API}/members/{member.profile_id}/level/lock", headers=cm.headers)
    set_level(client, cm, member, "starter")
    job_id, _ = confirmed_job(app, client, customer, cm, member)
    [settled] = transactions(job_id)
    assert lines(settled)["platform:revenue"] == -(payment(job_id).amount_captured * 20 // 100)
    assert payment(job_id).plan_code == "standard"
    assert db.session.scalar(select(func.sum(LedgerEntry.amount))) == 0


def test_the_member_sees_the_commission_on_their_job_and_why(app, client, customer, cm):
    member = ranked_member(2)
    set_level(client, cm, member, "senior")
    job_id, _ = completed_job(app, client, customer, cm, member)

    before = client.get(f"{API}/jobs/{job_id}/payment", headers=member.headers).get_json()
    commission = before["commission"]
    assert commission["estimate"] is True
    assert commission["plan_code"] == "senior-15" and commission["percent_bp"] == 1500
    assert commission["plan_cause"] == "promotion"
    assert commission["amount"] + commission["member_earning"] == commission["price"]
    assert "15 %" in commission["why"] and "promotion to Senior" in commission["why"]

    confirm(app, client, customer, job_id)
    after = client.get(f"{API}/jobs/{job_id}/payment", headers=member.headers).get_json()
    booked = after["commission"]
    settled = payment(job_id)
    assert booked["estimate"] is False
    assert booked["amount"] == settled.commission_amount
    assert booked["member_earning"] == settled.member_earning == after["member_earning"]
    assert booked["why"] == commission["why"]

    # Demoted later: the booked job keeps its reason, a new job is estimated on the new plan.
    client.delete(f"{API}/members/{member.profile_id}/level/lock", headers=cm.headers)
    set_level(client, cm, member, "starter")
    again = client.get(f"{API}/jobs/{job_id}/payment", headers=member.headers).get_json()
    assert again["commission"] == booked
    next_job, _ = completed_job(app, client, customer, cm, member)
    later = client.get(f"{API}/jobs/{next_job}/payment", headers=member.headers).get_json()
    assert later["commission"]["plan_code"] == "standard"
    assert later["commission"]["plan_cause"] == "demotion"
    assert "does not offer the plan 'Senior 15 %'" in later["commission"]["why"]

    # The customer sees no commission; staff see the same as the member.
    mine = client.get(f"{API}/jobs/{job_id}/payment", headers=customer.headers).get_json()
    assert "commission" not in mine
    staff = client.get(f"{API}/jobs/{job_id}/payment", headers=cm.headers).get_json()
    assert staff["commission"] == booked


def _ladder_with_senior(**senior) -> list[dict]:
    levels = [dict(level) for level in DEFAULT_LEVELS]
    levels[2] |= senior
    return levels


def test_new_rules_move_a_member_who_kept_their_rank_off_a_plan_no_longer_offered(
    app, client, cm, admin
):
    senior, expert = ranked_member(2), ranked_member(2)
    set_level(client, cm, senior, "senior")
    set_level(client, cm, expert, "expert")
    assert (plan_now(senior), plan_now(expert)) == ("senior-15", "expert-10")

    put_ladder(
        app, client, admin, _ladder_with_senior(plan_codes=["standard"], default_plan_code=None)
    )

    assert (plan_now(senior), plan_now(expert)) == ("standard", "expert-10")
    latest = assignments(senior)[-1]
    assert latest.cause == "level_rules" and latest.level_change_id is None
    assert "no longer include 'Senior 15 %'" in latest.reason
    assert plan_notifications(senior)[-1].data["cause"] == "level_rules"
    assert follow_rules() == 0  # a second run moves nobody


def test_new_rules_give_a_cheaper_default_to_members_of_the_level(app, client, cm, admin):
    senior = ranked_member(2)
    set_level(client, cm, senior, "senior")

    put_ladder(
        app,
        client,
        admin,
        _ladder_with_senior(plan_codes=["senior-15", "expert-10"], default_plan_code="expert-10"),
    )

    assert plan_now(senior) == "expert-10"
    assert assignments(senior)[-1].cause == "level_rules"
    # A dearer default leaves them on the cheaper plan the level still offers.
    put_ladder(
        app,
        client,
        admin,
        _ladder_with_senior(plan_codes=["senior-15", "expert-10"], default_plan_code="senior-15"),
    )
    assert plan_now(senior) == "expert-10"
