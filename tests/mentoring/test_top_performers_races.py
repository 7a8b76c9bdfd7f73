"""Simultaneous runs and revocations: a period runs once, a badge revokes once."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from crowd.extensions import db
from mentoring.models import TopPerformerBadge, TopPerformerDecision, TopPerformerRun
from payouts.models.plans import MemberCommissionPerk
from tests.concurrency import run_concurrently
from tests.factories import make_actor
from tests.mentoring.test_top_performers_support import (
    API,
    RUNS,
    current_quarter,
    done_jobs,
    performer,
)

pytestmark = pytest.mark.committing


def test_simultaneous_runs_of_a_period_make_one_run(app):
    cm, customer = make_actor("community_manager"), make_actor("customer")
    top = performer(customer, at=current_quarter().start - timedelta(days=20))

    def start(client, i):
        response = client.post(RUNS, json={}, headers=cm.headers)
        return response.status_code

    codes = run_concurrently(app, 5, start)

    assert sorted(codes) == [201] + [409] * 4
    with app.app_context():
        assert len(db.session.scalars(select(TopPerformerRun)).all()) == 1
        assert len(db.session.scalars(select(TopPerformerDecision)).all()) == 1
        perks = select(MemberCommissionPerk).where(MemberCommissionPerk.member_id == top.profile_id)
        assert len(db.session.scalars(perks).all()) == 1


def test_simultaneous_revocations_of_a_members_two_badges_end_the_perk(app):
    cm, customer = make_actor("community_manager"), make_actor("customer")
    at = current_quarter().start - timedelta(days=20)
    top = performer(customer, at=at)
    done_jobs(customer, top, 20, at=at, category="smart_home")
    with app.test_client() as client:
        assert client.post(RUNS, json={}, headers=cm.headers).status_code == 201
    with app.app_context():
        badge_ids = sorted(db.session.scalars(select(TopPerformerBadge.id)))
    assert len(badge_ids) == 2
    targets = badge_ids * 3

    def revoke(client, i):
        url = f"{API}/top-performer-badges/{targets[i]}/revoke"
        return client.post(url, json={"reason": "Abuse"}, headers=cm.headers).status_code

    codes = run_concurrently(app, len(targets), revoke)

    assert sorted(codes) == [200, 200] + [409] * 4
    with app.app_context():
        badges = db.session.scalars(select(TopPerformerBadge)).all()
        assert all(badge.revoked_at is not None for badge in badges)
        perk = db.session.get(MemberCommissionPerk, badges[0].perk_id)
        assert perk.valid_to is not None and perk.valid_to <= max(b.revoked_at for b in badges)
