"""Concurrent lifecycle actions: the job row lock lets exactly one through."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from crowd.core.db import commit, utcnow
from crowd.extensions import db
from jobs import service
from jobs.models import Job, JobEvent
from tests.concurrency import run_concurrently, task_unit
from tests.jobs.conftest import active_member, drain_background, force_job_state, post_job_via_api

pytestmark = pytest.mark.committing

THREADS = 8


def _events(app, job_id, action):
    with app.app_context():
        query = select(func.count()).where(JobEvent.job_id == job_id, JobEvent.action == action)
        return db.session.scalar(query)


def _posted(app, client, customer) -> int:
    job_id = post_job_via_api(client, customer).json["id"]
    drain_background(app)
    return job_id


def test_simultaneous_cancels_cancel_once(app, client, customer):
    job_id = _posted(app, client, customer)

    def cancel(client, i):
        response = client.post(
            f"/api/v1/jobs/{job_id}/cancel", json={"reason": f"try {i}"}, headers=customer.headers
        )
        return response.status_code, response.get_json().get("state")

    results = run_concurrently(app, THREADS, cancel)
    drain_background(app)
    assert sorted(code for code, _ in results) == [200] + [409] * (THREADS - 1)
    assert {state for code, state in results if code == 409} == {"cancelled"}
    assert _events(app, job_id, "cancel") == 1


def test_customer_confirm_racing_the_auto_confirm_confirms_once(app, client, customer):
    job_id = _posted(app, client, customer)
    member = active_member()
    done = utcnow() - timedelta(days=4)
    force_job_state(
        job_id,
        status="completed",
        assigned_member_id=member.profile_id,
        scheduled_start=done - timedelta(hours=2),
        scheduled_end=done,
        completed_at=done,
        status_changed_at=done,
    )

    def confirm(client, i):
        if i % 2:
            return client.post(
                f"/api/v1/jobs/{job_id}/confirm", headers=customer.headers
            ).status_code
        with task_unit(app):
            confirmed = service.auto_confirm(job_id)
            commit()
            return "system" if confirmed else "no-op"

    results = run_concurrently(app, THREADS, confirm)
    drain_background(app)
    winners = [r for r in results if r in (200, "system")]
    assert len(winners) == 1, results
    assert set(results) - {200, "system"} <= {409, "no-op"}
    assert _events(app, job_id, "confirm") == 1
    with app.app_context():
        assert db.session.get(Job, job_id).status == "confirmed"
