"""Check-in opens a set time before the booked window (JOBS_CHECK_IN_OPENS_MINUTES)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from crowd.core.db import utcnow
from crowd.extensions import db
from jobs.config import JobRules
from jobs.models import JobEvent
from tests.jobs.conftest import active_member
from tests.jobs.test_work import act, assigned_job, job_row


@pytest.fixture
def opens(app, monkeypatch):
    """Set the check-in lead time in minutes (the test suite's default is weeks)."""

    def _set(minutes: int):
        monkeypatch.setitem(app.config, "JOBS_CHECK_IN_OPENS_MINUTES", minutes)

    return _set


def _book_in(job_id: int, minutes: float) -> datetime:
    """Move the booked window to start `minutes` from now; returns the new start."""
    job = job_row(job_id)
    start = utcnow() + timedelta(minutes=minutes)
    job.scheduled_start, job.scheduled_end = start, start + timedelta(hours=2)
    db.session.commit()
    return start


def test_check_in_opens_an_hour_before_the_window_by_default():
    assert JobRules().check_in_opens_minutes == 60


def test_checking_in_a_day_early_is_409_saying_when_it_opens(app, client, customer, opens):
    opens(60)
    member = active_member()
    job_id = assigned_job(app, client, customer, member)
    start = _book_in(job_id, 24 * 60)

    response = act(client, member, job_id, "start")

    assert response.status_code == 409, response.get_json()
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["type"].endswith("/check-in-not-open")
    assert body["state"] == "assigned"
    opens_at = datetime.fromisoformat(body["opens_at"])
    assert opens_at == start - timedelta(minutes=60)
    assert body["opens_at"] in body["detail"]
    job = job_row(job_id)
    assert (job.status, job.started_at) == ("assigned", None)
    assert db.session.query(JobEvent).filter_by(job_id=job_id, to_status="in_progress").count() == 0


def test_check_in_is_open_within_the_lead_time(app, client, customer, opens):
    opens(60)
    member = active_member()
    job_id = assigned_job(app, client, customer, member)
    _book_in(job_id, 45)

    response = act(client, member, job_id, "start")

    assert response.status_code == 200, response.get_json()
    assert job_row(job_id).status == "in_progress"


def test_the_lead_time_is_a_setting(app, client, customer, opens):
    member = active_member()
    job_id = assigned_job(app, client, customer, member)
    _book_in(job_id, 90)
    opens(60)
    early = act(client, member, job_id, "start")
    assert early.status_code == 409
    assert early.get_json()["type"].endswith("/check-in-not-open")
    opens(120)
    assert act(client, member, job_id, "start").status_code == 200


def test_a_started_job_still_answers_with_its_state_not_the_clock(app, client, customer, opens):
    opens(60)
    member = active_member()
    job_id = assigned_job(app, client, customer, member)
    _book_in(job_id, 10)
    assert act(client, member, job_id, "start").status_code == 200
    _book_in(job_id, 24 * 60)
    again = act(client, member, job_id, "start")
    assert again.status_code == 409
    assert again.get_json()["type"].endswith("/job-not-startable")
    assert again.get_json()["state"] == "in_progress"
