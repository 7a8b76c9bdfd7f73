"""Erasure races, on both databases: an erasure and an assignment of the same member, or two
erasures of one account, never both go through."""

import pytest
from sqlalchemy import func, select

from crowd.extensions import db
from jobs.models import Job
from members.models import Member
from privacy.models import Erasure
from tests.concurrency import run_concurrently
from tests.factories import PASSWORD, make_actor
from tests.jobs.conftest import active_member
from tests.payouts.job_money_helpers import post_job, save_method

pytestmark = [pytest.mark.committing]


def test_an_erasure_and_an_assignment_of_the_member_do_not_both_go_through(app):
    with app.app_context():
        customer, cm = make_actor("customer"), make_actor("community_manager")
        member = active_member()
        assert save_method(app.test_client(), customer).status_code == 200
        job_id = post_job(app, app.test_client(), customer)

    def act(client, i):
        if i == 0:
            body = {"password": PASSWORD}
            return client.post("/api/v1/me/erasure", json=body, headers=member.headers)
        body = {"member_id": member.profile_id}
        return client.post(f"/api/v1/staff/jobs/{job_id}/assign", json=body, headers=cm.headers)

    erased, assigned = run_concurrently(app, 2, act)
    assert erased.status_code in (200, 409), erased.get_json()
    assert assigned.status_code < 500, assigned.get_json()
    with app.app_context():
        job = db.session.get(Job, job_id)
        status = db.session.get(Member, member.profile_id).status
        if erased.status_code == 200:
            assert assigned.status_code >= 400
            assert job.assigned_member_id is None and status == "offboarded"
        else:
            assert assigned.status_code == 200
            assert {"kind": "job", "id": job_id} in erased.get_json()["blocking"]
            assert job.assigned_member_id == member.profile_id and status == "active"


def test_two_erasures_of_one_account_make_one_record(app):
    with app.app_context():
        customer = make_actor("customer")
        admins = [make_actor("admin") for _ in range(3)]

    def erase(client, i):
        return client.post(
            f"/api/v1/users/{customer.user_id}/erasure",
            json={"reason": "Asked by letter"},
            headers=admins[i].headers,
        ).status_code

    statuses = run_concurrently(app, 3, erase)
    assert sorted(statuses) == [200, 409, 409]
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Erasure)) == 1
