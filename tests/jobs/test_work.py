"""Doing the work: start, complete with a report, back out — and what each leaves behind."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from crowd.core.background import OutboxMessage
from crowd.core.fields import MAX_AMOUNT_MINOR
from crowd.extensions import db
from jobs.models import Job, JobEvent, Offer, WorkReport
from members.models import MemberStats
from notifications.models import Notification
from tests.jobs.conftest import active_member, drain_background, post_job_via_api

MY_JOBS = "/api/v1/me/jobs"
REPORT = {
    "notes": "Mounted the TV, hid the cables in a duct.",
    "minutes_spent": 85,
    "parts": [{"name": "Cable duct 1 m", "quantity": 2, "amount_minor": 798}],
    "photo_refs": ["uploads/abc123.jpg"],
}


@pytest.fixture
def rules(app, monkeypatch):
    def _set(**values):
        for name, value in values.items():
            monkeypatch.setitem(app.config, f"JOBS_{name.upper()}", value)

    return _set


def job_row(job_id: int) -> Job:
    return db.session.execute(
        select(Job).where(Job.id == job_id).execution_options(populate_existing=True)
    ).scalar_one()


def stats(member_id: int) -> MemberStats:
    return db.session.execute(
        select(MemberStats)
        .where(MemberStats.member_id == member_id)
        .execution_options(populate_existing=True)
    ).scalar_one()


def assigned_job(app, client, customer, member) -> int:
    response = post_job_via_api(client, customer)
    assert response.status_code == 201, response.get_json()
    drain_background(app)
    job_id = response.get_json()["id"]
    offer_id = db.session.scalar(
        select(Offer.id).where(Offer.job_id == job_id, Offer.member_id == member.profile_id)
    )
    accepted = client.post(f"/api/v1/offers/{offer_id}/accept", headers=member.headers)
    assert accepted.status_code == 200, accepted.get_json()
    return job_id


def act(client, member, job_id: int, action: str, body: dict | None = None):
    return client.post(f"{MY_JOBS}/{job_id}/{action}", json=body, headers=member.headers)


def kinds_for(user_id: int) -> list[str]:
    return list(
        db.session.scalars(select(Notification.kind).where(Notification.user_id == user_id))
    )


# --- start ---------------------------------------------------------------------------------


def test_start_moves_the_job_in_progress(app, client, customer):
    member = active_member()
    job_id = assigned_job(app, client, customer, member)

    response = act(client, member, job_id, "start")

    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["status"] == "in_progress"
    assert body["started_at"] is not None
    assert body["allowed_actions"] == ["complete"]
    assert job_row(job_id).started_at is not None
    drain_background(app)
    assert "job.started" in kinds_for(customer.user_id)


def test_starting_twice_is_409_with_the_state(app, client, customer):
    member = active_member()
    job_id = assigned_job(app, client, customer, member)
    act(client, member, job_id, "start")
    again = act(client, member, job_id, "start")
    assert again.status_code == 409
    assert again.mimetype == "application/problem+json"
    assert again.get_json()["state"] == "in_progress"


def test_only_the_assigned_member_acts_on_a_job(app, client, customer):
    member, stranger = active_member(), active_member(lat=52.6)
    job_id = assigned_job(app, client, customer, member)
    for action, body in (("start", None), ("complete", REPORT), ("cancel", {"reason": "x"})):
        assert act(client, stranger, job_id, action, body).status_code == 404
    assert client.post(f"{MY_JOBS}/{job_id}/start", headers=customer.headers).status_code == 403
    assert client.post(f"{MY_JOBS}/{job_id}/start").status_code == 401
    assert job_row(job_id).status == "assigned"


# --- complete ------------------------------------------------------------------------------


def test_complete_with_a_report(app, client, customer):
    member = active_member()
    job_id = assigned_job(app, client, customer, member)
    act(client, member, job_id, "start")

    response = act(client, member, job_id, "complete", REPORT)

    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["status"] == "completed"
    assert body["work_report"]["minutes_spent"] == 85
    assert body["work_report"]["parts"] == REPORT["parts"]
    assert body["work_report"]["photo_refs"] == REPORT["photo_refs"]
    report = db.session.get(WorkReport, job_id)
    assert report.notes == REPORT["notes"]
    job = job_row(job_id)
    assert job.completed_at is not None
    counters = stats(member.profile_id)
    assert counters.jobs_completed == 1
    assert counters.last_job_completed_at is not None
    auto_confirm = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.task == "jobs.auto_confirm")
    ).all()
    assert [m.kwargs["job_id"] for m in auto_confirm] == [job_id]
    drain_background(app)
    assert "job.completed" in kinds_for(customer.user_id)
    # The customer sees the report too.
    seen = client.get(f"/api/v1/jobs/{job_id}", headers=customer.headers).get_json()
    assert seen["status"] == "completed"


def test_complete_requires_the_report_fields(app, client, customer):
    member = active_member()
    job_id = assigned_job(app, client, customer, member)
    act(client, member, job_id, "start")

    empty = act(client, member, job_id, "complete", {})
    assert empty.status_code == 422
    assert {"notes", "minutes_spent"} <= set(empty.get_json()["errors"]["json"])

    bad = act(
        client,
        member,
        job_id,
        "complete",
        {
            "notes": "   ",
            "minutes_spent": 0,
            "parts": [{"name": "Screw", "quantity": 0, "amount_minor": -1}],
            "photo_refs": [""],
        },
    )
    assert bad.status_code == 422
    errors = bad.get_json()["errors"]["json"]
    assert {"notes", "minutes_spent", "parts", "photo_refs"} <= set(errors)
    assert {"quantity", "amount_minor"} <= set(errors["parts"]["0"])
    assert job_row(job_id).status == "in_progress"


def test_a_part_amount_over_the_maximum_is_refused_and_the_maximum_accepted(app, client, customer):
    member = active_member()
    job_id = assigned_job(app, client, customer, member)
    act(client, member, job_id, "start")
    part = REPORT["parts"][0]
    for amount in (MAX_AMOUNT_MINOR + 1, 2**63):  # the probe's 9,223,372,036,854,775,808
        report = {**REPORT, "parts": [{**part, "amount_minor": amount}]}
        refused = act(client, member, job_id, "complete", report)
        assert refused.status_code == 422, refused.get_json()
        assert "amount_minor" in refused.get_json()["errors"]["json"]["parts"]["0"]
        assert job_row(job_id).status == "in_progress"
    report = {**REPORT, "parts": [{**part, "amount_minor": MAX_AMOUNT_MINOR}]}
    done = act(client, member, job_id, "complete", report)
    assert done.status_code == 200, done.get_json()
    assert db.session.get(WorkReport, job_id).parts[0]["amount_minor"] == MAX_AMOUNT_MINOR


def test_complete_before_start_is_409(app, client, customer):
    member = active_member()
    job_id = assigned_job(app, client, customer, member)
    response = act(client, member, job_id, "complete", REPORT)
    assert response.status_code == 409
    assert response.get_json()["state"] == "assigned"
    assert db.session.get(WorkReport, job_id) is None


def test_complete_replays_with_the_same_idempotency_key(app, client, customer):
    member = active_member()
    job_id = assigned_job(app, client, customer, member)
    act(client, member, job_id, "start")
    headers = {**member.headers, "Idempotency-Key": "done-1"}
    first = client.post(f"{MY_JOBS}/{job_id}/complete", json=REPORT, headers=headers)
    again = client.post(f"{MY_JOBS}/{job_id}/complete", json=REPORT, headers=headers)
    assert first.status_code == again.status_code == 200
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert stats(member.profile_id).jobs_completed == 1


# --- backing out ---------------------------------------------------------------------------


def test_cancel_returns_the_job_to_matching_without_the_member(app, client, customer, rules):
    rules(wave_size=1)
    member = active_member()
    job_id = assigned_job(app, client, customer, member)
    replacement = active_member()

    response = act(client, member, job_id, "cancel", {"reason": "Car broke down"})

    assert response.status_code == 200, response.get_json()
    assert response.get_json()["status"] == "open"
    drain_background(app)
    job = job_row(job_id)
    assert job.assigned_member_id is None
    assert job.scheduled_start is None and job.assigned_at is None
    assert job.status == "offered"  # the next wave went out at once
    pending = db.session.scalars(
        select(Offer.member_id).where(Offer.job_id == job_id, Offer.status == "pending")
    ).all()
    assert pending == [replacement.profile_id]
    counters = stats(member.profile_id)
    assert (counters.jobs_cancelled, counters.cancellation_rate) == (1, 1.0)
    assert "job.member_withdrew" in kinds_for(customer.user_id)
    event = db.session.scalars(
        select(JobEvent).where(JobEvent.job_id == job_id, JobEvent.action == "withdraw")
    ).one()
    assert event.detail == {"member_id": member.profile_id, "reason": "Car broke down"}
    # The job is no longer theirs.
    assert client.get(f"{MY_JOBS}/{job_id}", headers=member.headers).status_code == 404


def test_a_staff_assigned_member_who_backs_out_is_not_offered_the_job_again(
    app, client, customer, cm, rules
):
    rules(wave_size=5)
    response = post_job_via_api(client, customer)
    job_id = response.get_json()["id"]
    drain_background(app)  # nobody yet: escalated
    member = active_member()
    assigned = client.post(
        f"/api/v1/staff/jobs/{job_id}/assign",
        json={"member_id": member.profile_id},
        headers=cm.headers,
    )
    assert assigned.status_code == 200, assigned.get_json()

    act(client, member, job_id, "cancel", {"reason": "ill"})
    drain_background(app)

    job = job_row(job_id)
    assert job.status == "open" and job.escalated_at is not None
    assert db.session.scalars(select(Offer).where(Offer.job_id == job_id)).all() == []


def test_cancel_needs_a_reason_and_an_assigned_job(app, client, customer):
    member = active_member()
    job_id = assigned_job(app, client, customer, member)
    missing = act(client, member, job_id, "cancel", {})
    assert missing.status_code == 422
    assert "reason" in missing.get_json()["errors"]["json"]
    act(client, member, job_id, "start")
    started = act(client, member, job_id, "cancel", {"reason": "changed my mind"})
    assert started.status_code == 409
    assert started.get_json()["state"] == "in_progress"


def test_the_whole_member_journey_keeps_the_counters(app, client, customer, rules):
    rules(wave_size=1)
    member = active_member(max_concurrent_jobs=3)
    done = assigned_job(app, client, customer, member)
    act(client, member, done, "start")
    act(client, member, done, "complete", REPORT)
    dropped = assigned_job(app, client, customer, member)
    act(client, member, dropped, "cancel", {"reason": "double-booked privately"})

    counters = stats(member.profile_id)
    assert counters.offers_received == 2
    assert counters.offers_accepted == 2
    assert counters.acceptance_rate == 1.0
    assert counters.jobs_completed == 1
    assert counters.jobs_cancelled == 1
    assert counters.cancellation_rate == 0.5
    assert counters.median_response_seconds is not None
    assert job_row(done).scheduled_end - job_row(done).scheduled_start == timedelta(minutes=90)


def test_a_member_backing_out_starts_a_fresh_round_of_waves(app, client, customer, rules):
    rules(wave_size=1, max_waves=1)
    member = active_member()
    job_id = assigned_job(app, client, customer, member)
    replacement = active_member()

    act(client, member, job_id, "cancel", {"reason": "ill"})
    drain_background(app)

    # One wave was used up before the assignment; the new round still gets its own.
    job = job_row(job_id)
    assert (job.status, job.escalated_at, job.wave) == ("offered", None, 2)
    offered = db.session.scalars(
        select(Offer.member_id).where(Offer.job_id == job_id, Offer.wave == 2)
    ).all()
    assert offered == [replacement.profile_id]
