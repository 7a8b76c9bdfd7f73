"""A targeted offer racing itself, an accept and a direct assignment: one outcome each time."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from jobs.models import Job, Offer
from tests.concurrency import run_concurrently
from tests.factories import make_actor
from tests.jobs.conftest import active_member
from tests.jobs.test_dispatch_races import _fresh, _offered_job
from tests.jobs.test_targeted_offers import escalated_job

pytestmark = pytest.mark.committing


def test_two_simultaneous_offers_to_one_member_make_one_offer(app, customer):
    job_id = escalated_job(app, app.test_client(), customer)
    chosen = active_member()
    cms = [make_actor("community_manager") for _ in range(2)]

    def act(client, i):
        return client.post(
            f"/api/v1/staff/jobs/{job_id}/offers",
            json={"member_id": chosen.profile_id},
            headers=cms[i].headers,
        )

    responses = run_concurrently(app, 2, act)

    assert sorted(r.status_code for r in responses) == [201, 409]
    assert _fresh(app, select(func.count()).select_from(Offer).where(Offer.job_id == job_id)) == [
        (1,)
    ]


def test_a_targeted_offer_racing_an_accept_leaves_one_assignee_and_nothing_pending(app, customer):
    offered = active_member()
    job_id, (offer_id,) = _offered_job(app, customer, [offered])
    chosen = active_member()
    cm = make_actor("community_manager")

    def act(client, i):
        if i == 0:
            return client.post(f"/api/v1/offers/{offer_id}/accept", headers=offered.headers)
        return client.post(
            f"/api/v1/staff/jobs/{job_id}/offers",
            json={"member_id": chosen.profile_id},
            headers=cm.headers,
        )

    accept, targeted = run_concurrently(app, 2, act)

    # The accept always wins the job; the targeted offer either came first (and was then
    # withdrawn with the others) or found the job taken.
    assert accept.status_code == 200, accept.get_json()
    assert targeted.status_code in (201, 409), targeted.get_json()
    ((assignee, status),) = _fresh(
        app, select(Job.assigned_member_id, Job.status).where(Job.id == job_id)
    )
    assert (assignee, status) == (offered.profile_id, "assigned")
    pending = _fresh(
        app,
        select(func.count())
        .select_from(Offer)
        .where(Offer.job_id == job_id, Offer.status == "pending"),
    )
    assert pending == [(0,)]
    chosen_offers = _fresh(
        app,
        select(Offer.status).where(Offer.job_id == job_id, Offer.member_id == chosen.profile_id),
    )
    assert chosen_offers == ([("withdrawn",)] if targeted.status_code == 201 else [])
