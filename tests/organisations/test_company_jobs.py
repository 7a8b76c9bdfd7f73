"""A job done by a technician of a provider company is the company's: the assignment records
the company (jobs.organisation_id), which later slices pay and bill; a private member's job
records none, and an unassigned job forgets it."""

from __future__ import annotations

from crowd.extensions import db
from jobs.models import Job
from tests.jobs.conftest import active_member
from tests.organisations.helpers import API, company_with, register
from tests.payouts.job_money_helpers import assigned_job


def _company_of(job_id: int) -> int | None:
    db.session.expire_all()
    return db.session.get(Job, job_id).organisation_id


def test_a_technicians_job_is_their_companys(app, client, customer, cm):
    owner, technician = active_member(), active_member()
    organisation_id = company_with(client, app, cm, owner, technician=technician)
    job_id, _ = assigned_job(app, client, customer, cm, technician)
    assert _company_of(job_id) == organisation_id

    # The technician withdraws: the job waits for anyone again, no company's any more.
    withdrawn = client.post(
        f"{API}/me/jobs/{job_id}/cancel", json={"reason": "sick"}, headers=technician.headers
    )
    assert withdrawn.status_code == 200, withdrawn.get_json()
    assert _company_of(job_id) is None


def test_a_private_members_job_has_no_company(app, client, customer, cm):
    job_id, _ = assigned_job(app, client, customer, cm)
    assert _company_of(job_id) is None


def test_a_company_not_yet_activated_takes_no_jobs_for_itself(app, client, customer, cm):
    owner = active_member()
    register(client, owner)  # pending until a CM activates it
    job_id, _ = assigned_job(app, client, customer, cm, owner)
    assert _company_of(job_id) is None
