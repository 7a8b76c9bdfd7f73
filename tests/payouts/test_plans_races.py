"""Concurrent plan changes: the member and plan row locks keep periods apart."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from crowd.core.db import utcnow
from crowd.extensions import db
from payouts.models.plans import CommissionPlan, MemberPlan
from tests.concurrency import run_concurrently
from tests.factories import make_actor

pytestmark = pytest.mark.committing

PLANS = "/api/v1/plans"


def _create_plan(client, admin, code: str, percent_bp: int) -> None:
    body = {"code": code, "name": code, "kind": "percentage", "percent_bp": percent_bp}
    assert client.post(PLANS, json=body, headers=admin.headers).status_code == 201


def _assignments(app, member_id: int) -> list[MemberPlan]:
    with app.app_context():
        return db.session.scalars(select(MemberPlan).where(MemberPlan.member_id == member_id)).all()


def test_simultaneous_assignments_from_one_moment_leave_one(app, client):
    admin, member = make_actor("admin"), make_actor("member")
    for n in range(6):
        _create_plan(client, admin, f"p{n}", 1_000 + n)
    start = (utcnow() + timedelta(days=1)).isoformat()

    def assign(other_client, i):
        response = other_client.post(
            f"/api/v1/members/{member.profile_id}/plan",
            json={"plan_code": f"p{i}", "effective_from": start},
            headers=admin.headers,
        )
        return response.status_code

    assert sorted(run_concurrently(app, 6, assign)) == [201] + [409] * 5
    assert len(_assignments(app, member.profile_id)) == 1


def test_an_amount_change_racing_an_assignment_never_changes_an_assigned_plan(app, client):
    admin, member = make_actor("admin"), make_actor("member")
    _create_plan(client, admin, "pro", 1_500)

    def act(other_client, i):
        if i == 0:
            response = other_client.post(
                f"/api/v1/members/{member.profile_id}/plan",
                json={"plan_code": "pro"},
                headers=admin.headers,
            )
        else:
            response = other_client.patch(
                f"{PLANS}/pro", json={"percent_bp": 1_000 + i}, headers=admin.headers
            )
        return response.status_code

    results = run_concurrently(app, 4, act)
    assert results[0] == 201
    assert set(results[1:]) <= {200, 409}
    # Every change that landed did so before the assignment; any later one was refused.
    with app.app_context():
        plan = db.session.scalar(select(CommissionPlan).where(CommissionPlan.code == "pro"))
        (assignment,) = _assignments(app, member.profile_id)
        assert plan.updated_at <= assignment.created_at
        if 409 not in results:
            assert plan.percent_bp != 1_500
