"""Simultaneous plan choices of one member: one assignment, no overlap."""

import pytest
from sqlalchemy import select

from crowd.extensions import db
from members.models import Member
from onboarding.levels.rules import install_default_ruleset, level_at
from payouts.models.plans import CommissionPlan, MemberPlan
from tests.concurrency import run_concurrently
from tests.factories import make_actor

pytestmark = pytest.mark.committing


def test_simultaneous_choices_of_a_plan_assign_it_once(app):
    starter = level_at(install_default_ruleset(), 1)
    starter.plan_codes = ["standard", "pro10"]
    db.session.add(CommissionPlan(code="pro10", name="Pro", kind="percentage", percent_bp=1000))
    actor = make_actor("member")
    member = db.session.get(Member, actor.profile_id)
    member.status, member.level_rank = "active", 1
    db.session.commit()

    def choose(client, i):
        body = {"plan_code": "pro10"}
        return client.post("/api/v1/me/level/plan", json=body, headers=actor.headers)

    responses = run_concurrently(app, 6, choose)

    assert [r.status_code for r in responses] == [200] * 6
    assert {r.json["plan"]["code"] for r in responses} == {"pro10"}
    with app.app_context():
        assignments = db.session.scalars(
            select(MemberPlan).where(MemberPlan.member_id == actor.profile_id)
        ).all()
    assert len(assignments) == 1
