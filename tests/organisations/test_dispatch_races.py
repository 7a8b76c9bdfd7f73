"""First accept wins, whoever accepts: a company's dispatcher against a private member, and
two companies' dispatchers against each other, each request on its own connection."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from crowd.extensions import db
from jobs.models import Job, JobEvent, Offer
from tests.concurrency import run_concurrently
from tests.factories import make_actor
from tests.jobs.conftest import active_member
from tests.organisations.helpers import API, OWN, company_with
from tests.payouts.job_money_helpers import post_job

pytestmark = pytest.mark.committing


def _offer_ids(job_id: int) -> dict[int, int]:
    rows = db.session.execute(select(Offer.member_id, Offer.id).where(Offer.job_id == job_id))
    return dict(rows.all())


def _outcome(app, job_id: int):
    with app.app_context():
        job = db.session.get(Job, job_id)
        accepts = db.session.scalar(
            select(func.count()).where(JobEvent.job_id == job_id, JobEvent.action == "accept")
        )
        by_status = dict(
            db.session.execute(
                select(Offer.status, func.count())
                .where(Offer.job_id == job_id)
                .group_by(Offer.status)
            ).all()
        )
        return job.status, job.assigned_member_id, job.organisation_id, accepts, by_status


def _dispatch(client, dispatcher, offer_id: int, technician):
    return client.post(
        f"{OWN}/offers/{offer_id}/accept",
        json={"technician_member_id": technician.profile_id},
        headers=dispatcher.headers,
    )


def test_a_dispatcher_and_a_private_member_accepting_at_once_leave_one_winner(
    app, client, customer, cm
):
    dispatcher, technician, private = make_actor("member"), active_member(), active_member()
    organisation_id = company_with(
        client, app, cm, make_actor("member"), dispatcher=dispatcher, technician=technician
    )
    job_id = post_job(app, client, customer)
    offers = _offer_ids(job_id)
    calls = (
        lambda c: _dispatch(c, dispatcher, offers[technician.profile_id], technician),
        lambda c: c.post(
            f"{API}/offers/{offers[private.profile_id]}/accept", headers=private.headers
        ),
    )

    responses = run_concurrently(app, 2, lambda c, i: calls[i](c))

    statuses = [r.status_code for r in responses]
    assert sorted(statuses) == [200, 409], [r.get_json() for r in responses]
    status, assigned, company, accepts, by_status = _outcome(app, job_id)
    assert (status, accepts) == ("assigned", 1)
    assert by_status == {"accepted": 1, "withdrawn": 1}
    if statuses[0] == 200:
        assert (assigned, company) == (technician.profile_id, organisation_id)
    else:
        assert (assigned, company) == (private.profile_id, None)


def test_two_companies_dispatchers_accepting_at_once_leave_one_winner(app, client, customer, cm):
    teams = []
    for _ in range(2):
        dispatcher, technician = make_actor("member"), active_member()
        organisation_id = company_with(
            client, app, cm, make_actor("member"), dispatcher=dispatcher, technician=technician
        )
        teams.append((dispatcher, technician, organisation_id))
    job_id = post_job(app, client, customer)
    offers = _offer_ids(job_id)

    def accept(c, i):
        dispatcher, technician, _company = teams[i]
        return _dispatch(c, dispatcher, offers[technician.profile_id], technician)

    responses = run_concurrently(app, 2, accept)

    statuses = [r.status_code for r in responses]
    assert sorted(statuses) == [200, 409], [r.get_json() for r in responses]
    assert all(r.get_json().get("state") for r in responses if r.status_code == 409)
    _dispatcher, technician, organisation_id = teams[statuses.index(200)]
    status, assigned, company, accepts, by_status = _outcome(app, job_id)
    assert (status, assigned, company, accepts) == (
        "assigned",
        technician.profile_id,
        organisation_id,
        1,
    )
    assert by_status == {"accepted": 1, "withdrawn": 1}
