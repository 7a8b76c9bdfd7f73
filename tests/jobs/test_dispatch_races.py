"""First accept wins, for real: concurrent requests, each on its own connection."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import delete, func, select

from crowd.core.db import utcnow
from crowd.extensions import db
from jobs.models import Job, JobEvent, Offer
from tests.concurrency import run_concurrently
from tests.factories import make_actor
from tests.jobs.conftest import active_member, drain_background, future, post_job_via_api

pytestmark = pytest.mark.committing

CROWD = 100


def _offered_job(app, customer, members, **overrides) -> tuple[int, list[int]]:
    """A posted job with a pending offer to each of `members`, written straight to the table.

    Whatever its own dispatch did (inline or through Redis) is replaced by exactly these
    offers — any number, regardless of wave_size — so the race starts from a known state.
    """
    response = post_job_via_api(app.test_client(), customer, **overrides)
    assert response.status_code == 201, response.get_json()
    drain_background(app)
    job_id = response.get_json()["id"]
    db.session.execute(delete(Offer).where(Offer.job_id == job_id))
    job = db.session.get(Job, job_id)
    job.status, job.wave, job.escalated_at, job.escalation_reason = "offered", 1, None, None
    now = utcnow()
    offers = [
        Offer(
            job_id=job_id,
            member_id=member.profile_id,
            wave=1,
            status="pending",
            sent_at=now,
            expires_at=now + timedelta(minutes=30),
        )
        for member in members
    ]
    db.session.add_all(offers)
    db.session.commit()
    return job_id, [offer.id for offer in offers]


def _fresh(app, query):
    with app.app_context():
        return db.session.execute(query).all()


def test_hundred_simultaneous_accepts_leave_exactly_one_assigned_member(app):
    customer = make_actor("customer")
    members = [active_member() for _ in range(CROWD)]
    job_id, offer_ids = _offered_job(app, customer, members)

    def accept(client, i):
        response = client.post(f"/api/v1/offers/{offer_ids[i]}/accept", headers=members[i].headers)
        return response.status_code, response.get_json()

    results = run_concurrently(app, CROWD, accept)

    statuses = [status for status, _ in results]
    assert statuses.count(200) == 1, statuses
    assert statuses.count(409) == CROWD - 1, statuses
    assert all(body.get("state") for status, body in results if status == 409)
    winner = next(i for i, (status, _) in enumerate(results) if status == 200)
    ((assigned_member_id, status),) = _fresh(
        app, select(Job.assigned_member_id, Job.status).where(Job.id == job_id)
    )
    assert (assigned_member_id, status) == (members[winner].profile_id, "assigned")
    by_status = dict(
        _fresh(
            app,
            select(Offer.status, func.count()).where(Offer.job_id == job_id).group_by(Offer.status),
        )
    )
    assert by_status == {"accepted": 1, "withdrawn": CROWD - 1}
    accepts = _fresh(
        app,
        select(func.count())
        .select_from(JobEvent)
        .where(JobEvent.job_id == job_id, JobEvent.action == "accept"),
    )
    assert accepts == [(1,)]


def test_one_member_cannot_accept_two_overlapping_jobs_at_once(app):
    customer = make_actor("customer")
    member = active_member(max_concurrent_jobs=5)
    start = future(30)
    window = [{"starts_at": start.isoformat(), "ends_at": (start + timedelta(hours=2)).isoformat()}]
    offered = [_offered_job(app, customer, [member], windows=window) for _ in range(2)]
    jobs = [job_id for job_id, _ in offered]
    offer_ids = [ids[0] for _, ids in offered]

    def accept(client, i):
        return client.post(f"/api/v1/offers/{offer_ids[i]}/accept", headers=member.headers)

    responses = run_concurrently(app, 2, accept)

    assert sorted(r.status_code for r in responses) == [200, 409]
    assigned = _fresh(
        app,
        select(Job.id).where(Job.id.in_(jobs), Job.assigned_member_id == member.profile_id),
    )
    assert len(assigned) == 1


def test_an_accept_racing_a_direct_assignment_yields_one_assignee(app):
    customer = make_actor("customer")
    offered = active_member()
    job_id, (offer_id,) = _offered_job(app, customer, [offered])
    chosen = active_member()
    cm = make_actor("community_manager")

    def act(client, i):
        if i == 0:
            return client.post(f"/api/v1/offers/{offer_id}/accept", headers=offered.headers)
        return client.post(
            f"/api/v1/staff/jobs/{job_id}/assign",
            json={"member_id": chosen.profile_id},
            headers=cm.headers,
        )

    responses = run_concurrently(app, 2, act)

    assert sorted(r.status_code for r in responses) == [200, 409]
    ((assignee,),) = _fresh(app, select(Job.assigned_member_id).where(Job.id == job_id))
    winner = offered if responses[0].status_code == 200 else chosen
    assert assignee == winner.profile_id
