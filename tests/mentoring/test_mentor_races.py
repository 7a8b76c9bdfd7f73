"""Concurrent claims, assignments and graduations: one mentor per mentee, no
mentor past capacity, one reward per graduation."""

import pytest
from sqlalchemy import func, select

from crowd.core.db import commit
from crowd.extensions import db
from mentoring.mentors.assignment import auto_assign
from mentoring.mentors.graduation import check_graduation
from mentoring.models import Mentorship
from payouts import ledger
from payouts.ledger import account_code_for_member
from payouts.models.ledger import LedgerTransaction
from tests.concurrency import run_concurrently, task_unit
from tests.mentoring.conftest import API, member_row, mentor, ok, starter
from tests.payouts.conftest import assert_ledger_sound

pytestmark = pytest.mark.committing


def _live(app, **where) -> list[Mentorship]:
    with app.app_context():
        query = select(Mentorship).where(Mentorship.status.in_(("proposed", "active")))
        for column, value in where.items():
            query = query.where(getattr(Mentorship, column) == value)
        return list(db.session.scalars(query))


def test_simultaneous_claims_of_one_starter_give_one_mentor(app, client):
    mentors = [mentor(client) for _ in range(5)]
    newbie = starter()

    def claim(client, i):
        body = {"mentee_id": newbie.profile_id}
        response = client.post(f"{API}/me/mentees", json=body, headers=mentors[i].headers)
        return response.status_code

    results = run_concurrently(app, 5, claim)
    assert sorted(results) == [201] + [409] * 4
    assert len(_live(app, mentee_id=newbie.profile_id)) == 1


def test_simultaneous_assignments_never_fill_a_mentor_past_capacity(app, client):
    coach = mentor(client, body={"capacity": 2})
    newbies = [starter() for _ in range(6)]

    def assign(client, i):
        with task_unit(app):
            mentorship = auto_assign(newbies[i].profile_id)
            commit()
            return mentorship is not None

    assert sum(run_concurrently(app, 6, assign)) == 2
    assert len(_live(app, mentor_id=coach.profile_id)) == 2


def test_simultaneous_graduation_checks_reward_the_mentor_once(app, client):
    coach = mentor(client)
    newbie = starter()
    mentorship = auto_assign(newbie.profile_id)
    commit()
    ok(client.post(f"{API}/mentorships/{mentorship.id}/accept", headers=coach.headers))
    member_row(newbie).level_rank = 2
    db.session.commit()

    def graduate(client, i):
        with task_unit(app):
            done = check_graduation(newbie.profile_id)
            commit()
            return done is not None

    assert sum(run_concurrently(app, 6, graduate)) == 1
    with app.app_context():
        key = f"mentorship-{mentorship.id}-reward"
        count = select(func.count()).select_from(LedgerTransaction)
        assert db.session.scalar(count.where(LedgerTransaction.key == key)) == 1
        assert ledger.balance(account_code_for_member(coach.profile_id), "EUR") == 5000
        assert_ledger_sound()
