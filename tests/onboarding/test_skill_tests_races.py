"""Concurrent starts and submissions of skill-test attempts."""

import pytest
from sqlalchemy import func, select

from crowd.extensions import db
from onboarding.models import SkillTestAttempt
from tests.concurrency import run_concurrently
from tests.factories import make_actor
from tests.onboarding.conftest import (
    API,
    answers,
    complete_profile,
    create_test,
    start_attempt,
)

pytestmark = pytest.mark.committing


def _attempts(app, member_id):
    with app.app_context():
        query = select(SkillTestAttempt.status).where(SkillTestAttempt.member_id == member_id)
        return db.session.scalars(query).all()


def test_simultaneous_starts_open_one_attempt(app, client):
    cm = make_actor("community_manager")
    member = make_actor("member")
    complete_profile(client, member)
    create_test(client, cm)

    def start(test_client, i):
        response = start_attempt(test_client, member)
        return response.status_code, response.get_json().get("state")

    results = run_concurrently(app, 6, start)
    assert sorted(status for status, _ in results) == [201] + [409] * 5
    assert {state for status, state in results if status == 409} == {"started"}
    assert _attempts(app, member.profile_id) == ["started"]


def test_simultaneous_submissions_score_once(app, client):
    cm = make_actor("community_manager")
    member = make_actor("member")
    complete_profile(client, member)
    test = create_test(client, cm)
    attempt = start_attempt(client, member).get_json()
    chosen = answers(attempt, test, right=4)

    def submit(test_client, i):
        url = f"{API}/me/skill-test-attempts/{attempt['id']}/submit"
        response = test_client.post(url, json={"answers": chosen}, headers=member.headers)
        return response.status_code

    assert sorted(run_concurrently(app, 6, submit)) == [200] + [409] * 5
    assert _attempts(app, member.profile_id) == ["submitted"]
    with app.app_context():
        count = select(func.count()).where(SkillTestAttempt.passed.is_(True))
        assert db.session.scalar(count) == 1
