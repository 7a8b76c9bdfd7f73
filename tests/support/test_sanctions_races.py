"""Concurrent suspensions and accepts: the locks keep offers and status straight."""

import pytest
from sqlalchemy import select

from crowd.extensions import db
from jobs.models import Job, Offer
from members.models import Member, MemberStatusChange
from support.models import Sanction
from tests.concurrency import run_concurrently
from tests.jobs.conftest import active_member, drain_background
from tests.payouts.job_money_helpers import post_job

pytestmark = pytest.mark.committing

THREADS = 6


def _suspend(client, cm, member):
    return client.post(
        f"/api/v1/members/{member.profile_id}/sanctions",
        json={"kind": "suspend", "reason": "Under review"},
        headers=cm.headers,
    )


def test_simultaneous_suspensions_suspend_once(app, client, cm):
    member = active_member()

    results = run_concurrently(app, THREADS, lambda c, i: _suspend(c, cm, member).status_code)

    assert sorted(results) == [201] + [409] * (THREADS - 1)
    with app.app_context():
        changes = db.session.scalars(
            select(MemberStatusChange).where(
                MemberStatusChange.member_id == member.profile_id,
                MemberStatusChange.to_status == "suspended",
            )
        ).all()
        assert [c.from_status for c in changes] == ["active"]
        assert len(db.session.scalars(select(Sanction)).all()) == 1


def test_a_suspension_racing_an_accept_leaves_a_consistent_offer(app, client, customer, cm):
    member = active_member()
    job_id = post_job(app, client, customer)
    with app.app_context():
        offer_id = db.session.scalar(select(Offer.id).where(Offer.member_id == member.profile_id))

    def race(client, i):
        if i == 0:
            return "suspend", _suspend(client, cm, member).status_code
        accepted = client.post(f"/api/v1/offers/{offer_id}/accept", headers=member.headers)
        return "accept", accepted.status_code

    results = run_concurrently(app, 2, race)
    drain_background(app)

    assert ("suspend", 201) in results
    with app.app_context():
        offer = db.session.get(Offer, offer_id)
        job = db.session.get(Job, job_id)
        assert db.session.get(Member, member.profile_id).status == "suspended"
        if ("accept", 200) in results:  # the accept came first: the booking stands
            assert (offer.status, job.assigned_member_id) == ("accepted", member.profile_id)
        else:  # the suspension came first: the offer is gone, the job is not theirs
            assert offer.status == "withdrawn" and job.assigned_member_id is None
