"""The member (mobile) API: offers, accepting, and the member's jobs — scoped, lean, pollable."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from crowd.core.db import commit, utcnow
from crowd.extensions import db
from jobs.models import Job, JobEvent, Offer
from notifications.models import Notification
from tests.jobs.conftest import active_member, drain_background, future, post_job_via_api
from tests.sql_recorder import sql_statements

OFFERS = "/api/v1/offers"
MY_OFFERS = "/api/v1/me/offers"
MY_JOBS = "/api/v1/me/jobs"


@pytest.fixture
def rules(app, monkeypatch):
    def _set(**values):
        for name, value in values.items():
            monkeypatch.setitem(app.config, f"JOBS_{name.upper()}", value)

    return _set


def post_job(app, client, customer, **overrides) -> int:
    response = post_job_via_api(client, customer, **overrides)
    assert response.status_code == 201, response.get_json()
    drain_background(app)
    return response.get_json()["id"]


def offer_for(job_id: int, member) -> Offer:
    return db.session.execute(
        select(Offer)
        .where(Offer.job_id == job_id, Offer.member_id == member.profile_id)
        .execution_options(populate_existing=True)
    ).scalar_one()


def job_row(job_id: int) -> Job:
    return db.session.execute(
        select(Job).where(Job.id == job_id).execution_options(populate_existing=True)
    ).scalar_one()


def accept(client, offer_id: int, member, **headers):
    return client.post(f"{OFFERS}/{offer_id}/accept", headers={**member.headers, **headers})


def assigned_job(app, client, customer, member, **overrides) -> int:
    """A job `member` was offered and accepted."""
    job_id = post_job(app, client, customer, **overrides)
    response = accept(client, offer_for(job_id, member).id, member)
    assert response.status_code == 200, response.get_json()
    drain_background(app)
    return job_id


# --- my offers -----------------------------------------------------------------------------


def test_my_offers_show_the_job_without_street_or_customer(app, client, customer):
    member = active_member()
    job_id = post_job(app, client, customer)

    response = client.get(MY_OFFERS, headers=member.headers)

    assert response.status_code == 200
    body = response.get_json()
    assert body["page"]["total"] == 1
    (item,) = body["items"]
    assert item["status"] == "pending"
    assert item["expires_at"]
    job = item["job"]
    assert job["id"] == job_id
    assert job["title"].startswith("Mount a 55-inch TV")
    assert (job["category"], job["city"], job["postcode"]) == ("tv_audio", "Berlin", "10117")
    assert job["distance_km"] == 0.0
    assert job["duration_minutes"] == 90
    assert job["price"] == {"kind": "fixed", "amount": 12000, "rate": None, "currency": "EUR"}
    assert len(job["windows"]) == 1
    text = str(body)
    assert "Unter den Linden" not in text
    assert "street" not in job and "customer_first_name" not in job


def test_my_offers_are_mine_only(app, client, customer, rules):
    rules(wave_size=1)
    offered, other = active_member(), active_member(lat=52.6)  # the other is farther away
    post_job(app, client, customer)
    mine = client.get(MY_OFFERS, headers=offered.headers).get_json()["items"]
    theirs = client.get(MY_OFFERS, headers=other.headers).get_json()["items"]
    assert len(mine) + len(theirs) == 1


def test_my_offers_filter_by_status_and_poll_with_updated_since(app, client, customer, rules):
    rules(wave_size=1)
    member = active_member()
    first = post_job(app, client, customer)
    second = post_job(app, client, customer)
    client.post(
        f"{OFFERS}/{offer_for(first, member).id}/decline",
        json={"reason": "price_too_low"},
        headers=member.headers,
    )
    since = utcnow()
    db.session.execute(
        update(Offer)
        .where(Offer.id == offer_for(second, member).id)
        .values(status="withdrawn", updated_at=since + timedelta(seconds=1))
    )
    commit()

    def ids(**params):
        response = client.get(MY_OFFERS, query_string=params, headers=member.headers)
        assert response.status_code == 200, response.get_json()
        return [item["job"]["id"] for item in response.get_json()["items"]]

    assert ids() == []  # nothing pending any more
    assert ids(status="declined") == [first]
    assert sorted(ids(status="all")) == sorted([first, second])
    # Polling: only what changed since, whatever its status.
    assert ids(updated_since=since.isoformat()) == [second]


def test_my_offers_hide_pending_offers_past_their_expiry(app, client, customer):
    member = active_member()
    job_id = post_job(app, client, customer)
    db.session.execute(
        update(Offer).where(Offer.job_id == job_id).values(expires_at=utcnow() - timedelta(1))
    )
    commit()
    assert client.get(MY_OFFERS, headers=member.headers).get_json()["items"] == []


def test_my_offers_paginate(app, client, customer, rules):
    member = active_member(max_concurrent_jobs=5)
    for _ in range(3):
        post_job(app, client, customer)
    first = client.get(MY_OFFERS, query_string={"limit": 2}, headers=member.headers).get_json()
    assert len(first["items"]) == 2 and first["page"]["next_cursor"]
    rest = client.get(
        MY_OFFERS,
        query_string={"limit": 2, "cursor": first["page"]["next_cursor"]},
        headers=member.headers,
    ).get_json()
    assert len(rest["items"]) == 1
    seen = {i["id"] for i in first["items"]} | {i["id"] for i in rest["items"]}
    assert len(seen) == 3


def test_my_offers_validate_query_and_role(client, customer, member):
    assert client.get(MY_OFFERS).status_code == 401
    assert client.get(MY_OFFERS, headers=customer.headers).status_code == 403
    bad = client.get(MY_OFFERS, query_string={"status": "maybe"}, headers=member.headers)
    assert bad.status_code == 422
    assert "status" in bad.get_json()["errors"]["query"]
    naive = client.get(
        MY_OFFERS, query_string={"updated_since": "2030-01-01T00:00:00"}, headers=member.headers
    )
    assert naive.status_code == 422


# --- accepting -----------------------------------------------------------------------------


def test_accepting_assigns_the_job_and_withdraws_the_other_offers(app, client, customer, rules):
    rules(wave_size=3)
    winner, *others = [active_member() for _ in range(3)]
    job_id = post_job(app, client, customer)
    offer = offer_for(job_id, winner)

    response = accept(client, offer.id, winner)

    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert (body["id"], body["status"]) == (job_id, "assigned")
    # Now the member may see where and for whom.
    assert body["street"] == "Unter den Linden 1"
    assert body["customer_first_name"] == "Customer"
    assert body["allowed_actions"] == ["start", "withdraw"]
    job = job_row(job_id)
    assert (job.assigned_member_id, job.status) == (winner.profile_id, "assigned")
    assert job.scheduled_start is not None and job.assigned_at is not None
    assert job.scheduled_end - job.scheduled_start == timedelta(minutes=90)
    assert offer_for(job_id, winner).status == "accepted"
    assert {offer_for(job_id, m).status for m in others} == {"withdrawn"}
    drain_background(app)
    kinds = {(n.user_id, n.kind) for n in db.session.scalars(select(Notification)).all()}
    assert (customer.user_id, "job.assigned") in kinds
    assert all((m.user_id, "offer.withdrawn") in kinds for m in others)
    event = db.session.scalars(
        select(JobEvent).where(JobEvent.job_id == job_id, JobEvent.action == "accept")
    ).one()
    assert (event.actor, event.actor_user_id) == ("member", winner.user_id)


def test_accept_counts_towards_acceptance_rate_and_response_time(app, client, customer):
    from members.models import MemberStats

    member = active_member()
    job_id = post_job(app, client, customer)
    offer = offer_for(job_id, member)
    db.session.execute(
        update(Offer).where(Offer.id == offer.id).values(sent_at=utcnow() - timedelta(minutes=2))
    )
    commit()
    accept(client, offer.id, member)

    stats = db.session.execute(
        select(MemberStats)
        .where(MemberStats.member_id == member.profile_id)
        .execution_options(populate_existing=True)
    ).scalar_one()
    assert (stats.offers_received, stats.offers_accepted, stats.acceptance_rate) == (1, 1, 1.0)
    assert 115 <= stats.median_response_seconds <= 130


def test_accept_schedules_the_reminder(app, client, customer):
    from crowd.core.background import OutboxMessage

    member = active_member()
    job_id = assigned_job(app, client, customer, member)
    reminders = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.task == "jobs.remind")
    ).all()
    assert [m.kwargs["job_id"] for m in reminders] == [job_id]


def test_second_accept_of_a_taken_job_gets_409(app, client, customer, rules):
    rules(wave_size=2)
    first, second = active_member(), active_member()
    job_id = post_job(app, client, customer)
    assert accept(client, offer_for(job_id, first).id, first).status_code == 200

    late = accept(client, offer_for(job_id, second).id, second)

    assert late.status_code == 409
    assert late.mimetype == "application/problem+json"
    assert late.get_json()["state"] == "withdrawn"
    assert late.get_json()["type"] == "https://crowd.example/problems/offer-taken"
    assert job_row(job_id).assigned_member_id == first.profile_id


def test_a_losing_accept_is_refused_without_touching_the_job(app, client, customer, rules):
    """An offer withdrawn because another member won never turns pending again: the 409 comes
    from reading the offer, without queueing for the job's lock or reading the job."""
    rules(wave_size=2)
    first, second = active_member(), active_member()
    job_id = post_job(app, client, customer)
    assert accept(client, offer_for(job_id, first).id, first).status_code == 200
    late_offer = offer_for(job_id, second).id

    with sql_statements() as sent:
        late = accept(client, late_offer, second)

    assert (late.status_code, late.get_json()["state"]) == (409, "withdrawn")
    assert not [s for s in sent if s.startswith(("SELECT jobs.", "SELECT members."))], sent
    assert job_row(job_id).assigned_member_id == first.profile_id


def test_accepting_twice_is_409_but_a_replayed_key_answers_the_same(app, client, customer):
    member = active_member()
    job_id = post_job(app, client, customer)
    offer_id = offer_for(job_id, member).id
    key = {"Idempotency-Key": "accept-1"}

    first = accept(client, offer_id, member, **key)
    replay = accept(client, offer_id, member, **key)
    again = accept(client, offer_id, member)

    assert first.status_code == replay.status_code == 200
    assert replay.headers.get("Idempotent-Replayed") == "true"
    assert replay.get_json() == first.get_json()
    assert again.status_code == 409
    assert again.get_json()["state"] == "accepted"
    assert again.get_json()["type"] == "https://crowd.example/problems/offer-already-answered"


def test_an_expired_or_declined_offer_cannot_be_accepted(app, client, customer, rules):
    rules(wave_size=2)
    late, decliner = active_member(), active_member()
    job_id = post_job(app, client, customer)
    db.session.execute(
        update(Offer)
        .where(Offer.id == offer_for(job_id, late).id)
        .values(expires_at=utcnow() - timedelta(seconds=1))
    )
    commit()
    client.post(
        f"{OFFERS}/{offer_for(job_id, decliner).id}/decline",
        json={"reason": "other"},
        headers=decliner.headers,
    )

    expired = accept(client, offer_for(job_id, late).id, late)
    declined = accept(client, offer_for(job_id, decliner).id, decliner)

    assert (expired.status_code, expired.get_json()["state"]) == (409, "expired")
    assert (declined.status_code, declined.get_json()["state"]) == (409, "declined")
    assert expired.get_json()["type"] == "https://crowd.example/problems/offer-expired"
    assert declined.get_json()["type"] == "https://crowd.example/problems/offer-already-answered"
    assert job_row(job_id).assigned_member_id is None


def test_someone_elses_offer_is_404(app, client, customer, rules):
    rules(wave_size=1)
    offered = active_member()
    job_id = post_job(app, client, customer)
    stranger = active_member()
    offer_id = offer_for(job_id, offered).id
    assert accept(client, offer_id, stranger).status_code == 404
    assert accept(client, 999999, offered).status_code == 404
    decline = client.post(
        f"{OFFERS}/{offer_id}/decline", json={"reason": "other"}, headers=stranger.headers
    )
    assert decline.status_code == 404
    assert client.post(f"{OFFERS}/{offer_id}/accept", headers=customer.headers).status_code == 403


def test_accept_rechecks_eligibility(app, client, customer):
    from members.models import Member

    member = active_member()
    job_id = post_job(app, client, customer)
    db.session.execute(update(Member).where(Member.id == member.profile_id).values(status="paused"))
    commit()

    response = accept(client, offer_for(job_id, member).id, member)

    assert response.status_code == 409
    assert "active" in response.get_json()["detail"]
    assert job_row(job_id).status == "offered"


def test_accepting_an_overlapping_job_is_refused(app, client, customer):
    member = active_member(max_concurrent_jobs=5)
    start = future(30)
    window = [{"starts_at": start.isoformat(), "ends_at": (start + timedelta(hours=2)).isoformat()}]
    first = post_job(app, client, customer, windows=window)
    second = post_job(app, client, customer, windows=window)
    assert accept(client, offer_for(first, member).id, member).status_code == 200

    clash = accept(client, offer_for(second, member).id, member)

    assert clash.status_code == 409
    assert job_row(second).assigned_member_id is None


def test_decline_needs_a_known_reason(app, client, customer):
    member = active_member()
    job_id = post_job(app, client, customer)
    url = f"{OFFERS}/{offer_for(job_id, member).id}/decline"
    missing = client.post(url, json={}, headers=member.headers)
    unknown = client.post(url, json={"reason": "bored"}, headers=member.headers)
    extra = client.post(url, json={"reason": "other", "mood": "meh"}, headers=member.headers)
    for response in (missing, unknown):
        assert response.status_code == 422
        assert "reason" in response.get_json()["errors"]["json"]
    assert extra.status_code == 422
    ok = client.post(url, json={"reason": "lacks_skill"}, headers=member.headers)
    assert ok.status_code == 200
    assert ok.get_json()["status"] == "declined"
    twice = client.post(url, json={"reason": "lacks_skill"}, headers=member.headers)
    assert (twice.status_code, twice.get_json()["state"]) == (409, "declined")


# --- my jobs -------------------------------------------------------------------------------


def test_my_jobs_by_scope(app, client, customer):
    member = active_member(max_concurrent_jobs=5)
    upcoming = assigned_job(app, client, customer, member, windows=_window(30))
    active = assigned_job(app, client, customer, member, windows=_window(60))
    done = assigned_job(app, client, customer, member, windows=_window(90))
    client.post(f"{MY_JOBS}/{active}/start", headers=member.headers)
    client.post(f"{MY_JOBS}/{done}/start", headers=member.headers)
    client.post(
        f"{MY_JOBS}/{done}/complete",
        json={"notes": "Mounted.", "minutes_spent": 80},
        headers=member.headers,
    )

    def ids(**params):
        response = client.get(MY_JOBS, query_string=params, headers=member.headers)
        assert response.status_code == 200, response.get_json()
        return [item["id"] for item in response.get_json()["items"]]

    assert ids(scope="upcoming") == [upcoming]
    assert ids(scope="active") == [active]
    assert ids(scope="past") == [done]
    assert sorted(ids()) == sorted([upcoming, active, done])
    bad = client.get(MY_JOBS, query_string={"scope": "someday"}, headers=member.headers)
    assert bad.status_code == 422


def _window(hours_ahead: float) -> list[dict]:
    start = future(hours_ahead)
    return [{"starts_at": start.isoformat(), "ends_at": (start + timedelta(hours=3)).isoformat()}]


def test_my_jobs_poll_with_updated_since(app, client, customer):
    member = active_member(max_concurrent_jobs=5)
    quiet = assigned_job(app, client, customer, member, windows=_window(30))
    busy = assigned_job(app, client, customer, member, windows=_window(60))
    since = utcnow()
    db.session.execute(update(Job).where(Job.id == quiet).values(updated_at=since - timedelta(1)))
    commit()
    client.post(f"{MY_JOBS}/{busy}/start", headers=member.headers)

    response = client.get(
        MY_JOBS, query_string={"updated_since": since.isoformat()}, headers=member.headers
    )

    assert [item["id"] for item in response.get_json()["items"]] == [busy]


def test_my_job_in_full_and_others_jobs_are_404(app, client, customer):
    member, stranger = active_member(), active_member(lat=52.6)
    job_id = assigned_job(app, client, customer, member)

    mine = client.get(f"{MY_JOBS}/{job_id}", headers=member.headers)
    assert mine.status_code == 200
    body = mine.get_json()
    assert body["street"] == "Unter den Linden 1"
    assert body["device"]["brand"] == "Sony"
    assert body["skills"] == ["tv_wall_mount"]
    assert body["work_report"] is None
    assert client.get(f"{MY_JOBS}/{job_id}", headers=stranger.headers).status_code == 404
    assert client.get(f"{MY_JOBS}/999999", headers=member.headers).status_code == 404
    listed = client.get(MY_JOBS, headers=stranger.headers).get_json()
    assert listed["items"] == []


def test_a_job_only_offered_is_not_among_my_jobs(app, client, customer):
    member = active_member()
    job_id = post_job(app, client, customer)
    assert client.get(f"{MY_JOBS}/{job_id}", headers=member.headers).status_code == 404
    assert client.get(MY_JOBS, headers=member.headers).get_json()["items"] == []
