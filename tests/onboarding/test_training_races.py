"""Simultaneous completions of one module: one record, the same answer for all."""

import pytest
from sqlalchemy import select

from crowd.extensions import db
from members.models import Member
from onboarding.levels.rules import install_default_ruleset
from onboarding.models import TrainingCompletion, TrainingModule
from tests.concurrency import run_concurrently
from tests.factories import make_actor

pytestmark = pytest.mark.committing


def _setup():
    install_default_ruleset()
    actor = make_actor("member")
    db.session.get(Member, actor.profile_id).status = "active"
    db.session.add(TrainingModule(code="customer-care", title="Customer care", duration_minutes=30))
    db.session.commit()
    return actor


def _completions(app, member_id):
    with app.app_context():
        query = select(TrainingCompletion).where(TrainingCompletion.member_id == member_id)
        return db.session.scalars(query).all()


def test_simultaneous_completions_record_once_and_agree(app):
    actor = _setup()

    def complete(client, i):
        url = "/api/v1/me/training/customer-care/complete"
        return client.post(url, headers=actor.headers)

    responses = run_concurrently(app, 6, complete)

    assert [r.status_code for r in responses] == [200] * 6
    assert len({r.json["completed_at"] for r in responses}) == 1
    assert len(_completions(app, actor.profile_id)) == 1


def test_member_completing_while_staff_records_gives_one_record(app):
    actor = _setup()
    cm = make_actor("community_manager")

    def either(client, i):
        if i % 2:
            url = f"/api/v1/members/{actor.profile_id}/training/customer-care"
            return client.post(url, headers=cm.headers)
        return client.post("/api/v1/me/training/customer-care/complete", headers=actor.headers)

    responses = run_concurrently(app, 6, either)

    assert [r.status_code for r in responses] == [200] * 6
    assert len(_completions(app, actor.profile_id)) == 1
