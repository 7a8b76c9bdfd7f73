"""The customer's jobs: own views only, events, confirm, cancel (free or late fee) and dispute."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from crowd.core.background import OutboxMessage
from crowd.core.db import utcnow
from crowd.extensions import db
from jobs.models import Job, JobEvent, Offer, WorkReport
from tests.factories import make_actor
from tests.jobs.conftest import (
    active_member,
    drain_background,
    force_job_state,
    notifications_for,
    post_job_via_api,
)


def _post(client, customer, **overrides) -> int:
    response = post_job_via_api(client, customer, **overrides)
    assert response.status_code == 201, response.json
    return response.json["id"]


def _assign(job_id, member, *, starts_in=timedelta(days=3), status="assigned"):
    start = (utcnow() + starts_in).replace(microsecond=0)
    return force_job_state(
        job_id,
        status=status,
        assigned_member_id=member.profile_id,
        assigned_at=utcnow(),
        scheduled_start=start,
        scheduled_end=start + timedelta(minutes=90),
    )


def _complete(job_id, member, *, ago=timedelta(hours=1)):
    _assign(job_id, member, starts_in=-ago - timedelta(hours=2), status="completed")
    return force_job_state(job_id, completed_at=utcnow() - ago, status_changed_at=utcnow() - ago)


def _offer(job_id, member, status="pending"):
    offer = Offer(
        job_id=job_id,
        member_id=member.profile_id,
        wave=1,
        status=status,
        expires_at=utcnow() + timedelta(minutes=15),
    )
    db.session.add(offer)
    db.session.commit()
    return offer


def _problem(response, status):
    assert response.status_code == status, response.get_json()
    assert response.content_type == "application/problem+json"
    return response.get_json()


# --- views --------------------------------------------------------------------------------


def test_customer_lists_only_their_own_jobs(client, customer, other_customer):
    mine = [_post(client, customer), _post(client, customer)]
    _post(client, other_customer)
    response = client.get("/api/v1/jobs", headers=customer.headers)
    assert response.status_code == 200
    assert [item["id"] for item in response.json["items"]] == mine
    assert response.json["page"]["total"] == 2


def test_another_customers_job_is_not_found(client, customer, other_customer):
    job_id = _post(client, other_customer)
    for method, path, body in [
        ("get", f"/api/v1/jobs/{job_id}", None),
        ("get", f"/api/v1/jobs/{job_id}/events", None),
        ("post", f"/api/v1/jobs/{job_id}/confirm", None),
        ("post", f"/api/v1/jobs/{job_id}/cancel", {"reason": "mine now"}),
        ("post", f"/api/v1/jobs/{job_id}/dispute", {"reason": "mine now"}),
    ]:
        response = getattr(client, method)(path, json=body, headers=customer.headers)
        _problem(response, 404)
    assert db.session.get(Job, job_id).status != "cancelled"


def test_unknown_job_is_not_found(client, customer):
    _problem(client.get("/api/v1/jobs/987654", headers=customer.headers), 404)


CUSTOMER_ENDPOINTS = [
    ("get", "/api/v1/jobs"),
    ("get", "/api/v1/jobs/{id}"),
    ("post", "/api/v1/jobs/{id}/confirm"),
    ("post", "/api/v1/jobs/{id}/cancel"),
    ("post", "/api/v1/jobs/{id}/dispute"),
]


@pytest.mark.parametrize("role", ["member", "community_manager", "admin"])
@pytest.mark.parametrize("method, path", CUSTOMER_ENDPOINTS)
def test_customer_endpoints_refuse_other_roles(client, customer, role, method, path):
    job_id = _post(client, customer)
    actor = make_actor(role)
    response = getattr(client, method)(
        path.format(id=job_id), json={"reason": "x"}, headers=actor.headers
    )
    _problem(response, 403)


def test_customer_endpoints_need_credentials(client, customer):
    job_id = _post(client, customer)
    _problem(client.get("/api/v1/jobs"), 401)
    _problem(client.post(f"/api/v1/jobs/{job_id}/cancel", json={"reason": "x"}), 401)


def test_status_filter(client, customer):
    open_id = _post(client, customer)
    cancelled_id = _post(client, customer)
    client.post(
        f"/api/v1/jobs/{cancelled_id}/cancel", json={"reason": "x"}, headers=customer.headers
    )
    listed = client.get("/api/v1/jobs?status=cancelled", headers=customer.headers).json
    assert [item["id"] for item in listed["items"]] == [cancelled_id]
    listed = client.get("/api/v1/jobs?status=open", headers=customer.headers).json
    assert [item["id"] for item in listed["items"]] == [open_id]
    _problem(client.get("/api/v1/jobs?status=lost", headers=customer.headers), 422)


def test_updated_since_returns_jobs_changed_since(client, customer, db_session):
    old_id = _post(client, customer)
    new_id = _post(client, customer)
    long_ago = utcnow() - timedelta(days=2)
    force_job_state(old_id, updated_at=long_ago)
    force_job_state(new_id, updated_at=utcnow() - timedelta(minutes=5))
    since = (utcnow() - timedelta(hours=1)).isoformat()
    listed = client.get(
        "/api/v1/jobs", query_string={"updated_since": since}, headers=customer.headers
    ).json
    assert [item["id"] for item in listed["items"]] == [new_id]
    # A change brings the old one back, last in the order.
    client.post(f"/api/v1/jobs/{old_id}/cancel", json={"reason": "x"}, headers=customer.headers)
    listed = client.get(
        "/api/v1/jobs", query_string={"updated_since": since}, headers=customer.headers
    ).json
    assert [item["id"] for item in listed["items"]] == [new_id, old_id]
    naive = client.get(
        "/api/v1/jobs",
        query_string={"updated_since": "2030-01-01T00:00:00"},
        headers=customer.headers,
    )
    assert "updated_since" in _problem(naive, 422)["errors"]["query"]


def test_pages_walk_through_all_jobs_in_update_order(client, customer):
    ids = [_post(client, customer) for _ in range(5)]
    for offset, job_id in enumerate(reversed(ids)):
        force_job_state(job_id, updated_at=utcnow() - timedelta(hours=10 - offset))
    seen, cursor = [], None
    while True:
        query = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = client.get("/api/v1/jobs", query_string=query, headers=customer.headers).json
        seen += [item["id"] for item in page["items"]]
        cursor = page["page"]["next_cursor"]
        if cursor is None:
            break
    assert seen == list(reversed(ids))


def test_job_shows_assigned_member_and_what_the_customer_may_do(client, customer):
    job_id = _post(client, customer)
    member = active_member(display_name="Mia Monteur")
    _assign(job_id, member)
    body = client.get(f"/api/v1/jobs/{job_id}", headers=customer.headers).json
    assert body["status"] == "assigned"
    assert body["assigned_member"] == {"id": member.profile_id, "display_name": "Mia Monteur"}
    assert body["allowed_actions"] == ["cancel"]
    assert body["work_report"] is None


def test_completed_job_shows_the_work_report(client, customer):
    job_id = _post(client, customer)
    member = active_member()
    _complete(job_id, member)
    db.session.add(
        WorkReport(
            job_id=job_id,
            notes="Mounted; cables in a duct.",
            minutes_spent=80,
            parts=[{"name": "cable duct", "quantity": 1, "amount": 1299}],
            photo_refs=["photo-1"],
        )
    )
    db.session.commit()
    body = client.get(f"/api/v1/jobs/{job_id}", headers=customer.headers).json
    assert body["allowed_actions"] == ["confirm", "dispute"]
    assert body["work_report"]["notes"] == "Mounted; cables in a duct."
    assert body["work_report"]["minutes_spent"] == 80
    assert body["work_report"]["parts"][0]["amount"] == 1299


# --- events -------------------------------------------------------------------------------


def test_events_trail_records_who_did_what(client, customer, cm):
    job_id = _post(client, customer)
    client.post(
        f"/api/v1/jobs/{job_id}/cancel",
        json={"reason": "Fixed it myself"},
        headers=customer.headers,
    )
    response = client.get(f"/api/v1/jobs/{job_id}/events", headers=customer.headers)
    assert response.status_code == 200
    events = response.json["items"]
    assert events[0]["action"] == "post" and events[0]["to_status"] == "open"
    last = events[-1]
    assert (last["action"], last["from_status"], last["to_status"]) == (
        "cancel",
        "open",
        "cancelled",
    )
    assert last["actor"] == "customer" and last["actor_user_id"] == customer.user_id
    assert last["detail"] == {"reason": "Fixed it myself", "fee": 0}
    # Staff see the same trail.
    as_staff = client.get(f"/api/v1/jobs/{job_id}/events", headers=cm.headers)
    assert as_staff.json["items"] == events


def test_the_customer_does_not_see_who_was_offered_the_job(app, client, customer, cm):
    taker, other = active_member(), active_member()
    job_id = _post(client, customer)
    drain_background(app)  # the first wave offers the job to both
    offers = db.session.scalars(select(Offer).where(Offer.job_id == job_id)).all()
    assert {o.member_id for o in offers} == {taker.profile_id, other.profile_id}
    offer = next(o for o in offers if o.member_id == taker.profile_id)
    accepted = client.post(f"/api/v1/offers/{offer.id}/accept", headers=taker.headers)
    assert accepted.status_code == 200, accepted.json

    seen = client.get(f"/api/v1/jobs/{job_id}/events", headers=customer.headers).json["items"]
    by_action = {event["action"]: event for event in seen}
    assert {"post", "dispatch", "accept"} <= set(by_action)
    assert "member_ids" not in by_action["dispatch"]["detail"]
    assert by_action["dispatch"]["detail"]["wave"] == 1
    assert by_action["accept"]["detail"] == {}  # no offer id
    assert by_action["accept"]["actor"] == "member"
    assert by_action["accept"]["actor_user_id"] is None  # no member's user id either
    for event in seen:  # the member who was offered it and did not take it: nowhere
        for value in event["detail"].values():
            assert other.profile_id not in (value if isinstance(value, list) else [value])
    # Staff see everything.
    staff = client.get(f"/api/v1/jobs/{job_id}/events", headers=cm.headers).json["items"]
    dispatch = next(event for event in staff if event["action"] == "dispatch")
    assert set(dispatch["detail"]["member_ids"]) == {taker.profile_id, other.profile_id}
    accept = next(event for event in staff if event["action"] == "accept")
    assert accept["actor_user_id"] == taker.user_id and accept["detail"]["offer_id"] == offer.id


def test_members_cannot_read_a_jobs_events(client, customer, member):
    job_id = _post(client, customer)
    _problem(client.get(f"/api/v1/jobs/{job_id}/events", headers=member.headers), 403)


# --- cancel -------------------------------------------------------------------------------


def test_cancelling_an_open_job_is_free(client, customer):
    job_id = _post(client, customer)
    response = client.post(
        f"/api/v1/jobs/{job_id}/cancel", json={"reason": "Not needed"}, headers=customer.headers
    )
    assert response.status_code == 200
    assert response.json["status"] == "cancelled"
    assert response.json["allowed_actions"] == []
    cancellation = response.json["cancellation"]
    assert cancellation["cancelled_by"] == "customer"
    assert cancellation["reason"] == "Not needed"
    assert cancellation["fee_amount"] == 0
    job = db.session.get(Job, job_id)
    db.session.refresh(job)
    assert job.status == "cancelled" and job.cancelled_at is not None


def test_cancelling_an_offered_job_withdraws_pending_offers_and_tells_their_members(
    app, client, customer
):
    job_id = _post(client, customer)
    asked, declined = active_member(), active_member()
    force_job_state(job_id, status="offered")
    pending = _offer(job_id, asked)
    answered = _offer(job_id, declined, status="declined")
    response = client.post(
        f"/api/v1/jobs/{job_id}/cancel", json={"reason": "Too slow"}, headers=customer.headers
    )
    assert response.status_code == 200
    assert response.json["cancellation"]["fee_amount"] == 0
    drain_background(app)
    db.session.expire_all()
    assert db.session.get(Offer, pending.id).status == "withdrawn"
    assert db.session.get(Offer, answered.id).status == "declined"
    assert [n.data["offer_id"] for n in notifications_for(asked.user_id, "offer.withdrawn")] == [
        pending.id
    ]
    assert notifications_for(declined.user_id) == []


def test_cancelling_an_assigned_job_well_ahead_is_free_and_tells_the_member(app, client, customer):
    job_id = _post(client, customer)
    member = active_member()
    _assign(job_id, member, starts_in=timedelta(hours=25))
    response = client.post(
        f"/api/v1/jobs/{job_id}/cancel", json={"reason": "Moved out"}, headers=customer.headers
    )
    assert response.status_code == 200
    assert response.json["cancellation"]["fee_amount"] == 0
    drain_background(app)
    [notice] = notifications_for(member.user_id, "job.cancelled")
    assert notice.data["job_id"] == job_id
    assert notifications_for(customer.user_id, "job.cancelled") == []


@pytest.mark.parametrize(
    "price, percent, fee",
    [
        (12000, 20, 2400),
        (12347, 20, 2469),  # 2469.4 → 2469
        (12348, 20, 2470),  # 2469.6 → 2470
        (12345, 10, 1235),  # 1234.5 → 1235 (half up)
        (1, 50, 1),  # 0.5 → 1
        (12000, 0, 0),
    ],
)
def test_late_cancellation_costs_the_fee_in_exact_minor_units(
    app, client, customer, monkeypatch, price, percent, fee
):
    monkeypatch.setitem(app.config, "JOBS_LATE_CANCEL_FEE_PERCENT", percent)
    job_id = _post(client, customer, pricing={"kind": "fixed", "amount": price})
    member = active_member()
    _assign(job_id, member, starts_in=timedelta(hours=23))
    response = client.post(
        f"/api/v1/jobs/{job_id}/cancel", json={"reason": "Late"}, headers=customer.headers
    )
    assert response.status_code == 200
    assert response.json["cancellation"]["fee_amount"] == fee
    db.session.expire_all()
    assert db.session.get(Job, job_id).cancellation_fee_amount == fee


def test_late_window_is_configurable(app, client, customer, monkeypatch):
    monkeypatch.setitem(app.config, "JOBS_LATE_CANCEL_WINDOW_HOURS", 48)
    job_id = _post(client, customer)
    member = active_member()
    _assign(job_id, member, starts_in=timedelta(hours=47))
    response = client.post(
        f"/api/v1/jobs/{job_id}/cancel", json={"reason": "Late"}, headers=customer.headers
    )
    assert response.json["cancellation"]["fee_amount"] == 2400


def test_cancelling_after_the_scheduled_start_still_costs_the_fee(client, customer):
    job_id = _post(client, customer)
    member = active_member()
    _assign(job_id, member, starts_in=-timedelta(minutes=10))
    response = client.post(
        f"/api/v1/jobs/{job_id}/cancel", json={"reason": "Nobody came"}, headers=customer.headers
    )
    assert response.json["cancellation"]["fee_amount"] == 2400


def test_customer_cannot_cancel_work_in_progress(client, customer):
    job_id = _post(client, customer)
    member = active_member()
    _assign(job_id, member, starts_in=-timedelta(minutes=10), status="in_progress")
    body = _problem(
        client.post(
            f"/api/v1/jobs/{job_id}/cancel", json={"reason": "x"}, headers=customer.headers
        ),
        409,
    )
    assert body["state"] == "in_progress"


def test_cancelling_twice_is_409_with_the_state(client, customer):
    job_id = _post(client, customer)
    url = f"/api/v1/jobs/{job_id}/cancel"
    assert client.post(url, json={"reason": "x"}, headers=customer.headers).status_code == 200
    body = _problem(client.post(url, json={"reason": "x"}, headers=customer.headers), 409)
    assert body["state"] == "cancelled"
    assert body["type"] == "https://crowd.example/problems/job-not-cancellable"


@pytest.mark.parametrize("body", [{}, {"reason": "  "}, {"reason": "x" * 501}, None])
def test_cancel_needs_a_reason(client, customer, body):
    job_id = _post(client, customer)
    response = client.post(f"/api/v1/jobs/{job_id}/cancel", json=body, headers=customer.headers)
    _problem(response, 422)


# --- confirm ------------------------------------------------------------------------------


def test_customer_confirms_a_completed_job(app, client, customer, db_session):
    job_id = _post(client, customer)
    member = active_member()
    _complete(job_id, member)
    response = client.post(f"/api/v1/jobs/{job_id}/confirm", headers=customer.headers)
    assert response.status_code == 200
    assert response.json["status"] == "confirmed"
    assert response.json["confirmed_at"] is not None
    assert response.json["allowed_actions"] == ["dispute"]
    event = db_session.scalars(
        select(JobEvent).where(JobEvent.job_id == job_id).order_by(JobEvent.id.desc())
    ).first()
    assert (event.action, event.actor, event.actor_user_id) == (
        "confirm",
        "customer",
        customer.user_id,
    )
    # Closing is scheduled close_after_days (14) later.
    job = db_session.get(Job, job_id)
    db_session.refresh(job)
    close = db_session.scalar(select(OutboxMessage).where(OutboxMessage.task == "jobs.close"))
    assert close.kwargs == {"job_id": job_id} and close.status == "pending"
    assert close.run_after == job.status_changed_at + timedelta(days=14)
    drain_background(app)
    assert len(notifications_for(member.user_id, "job.confirmed")) == 1


@pytest.mark.parametrize("status", ["open", "assigned", "in_progress", "confirmed"])
def test_confirming_a_job_that_is_not_completed_is_409(client, customer, status):
    job_id = _post(client, customer)
    member = active_member()
    _assign(job_id, member, status=status)
    body = _problem(client.post(f"/api/v1/jobs/{job_id}/confirm", headers=customer.headers), 409)
    assert body["state"] == status
    assert body["type"] == "https://crowd.example/problems/job-not-confirmable"


# --- dispute ------------------------------------------------------------------------------


@pytest.mark.parametrize("status", ["completed", "confirmed"])
def test_customer_disputes_a_finished_job(client, customer, status, db_session):
    job_id = _post(client, customer)
    member = active_member()
    _complete(job_id, member)
    force_job_state(job_id, status=status)
    response = client.post(
        f"/api/v1/jobs/{job_id}/dispute", json={"reason": "Wall damaged"}, headers=customer.headers
    )
    assert response.status_code == 200
    assert response.json["status"] == "disputed"
    event = db_session.scalars(
        select(JobEvent).where(JobEvent.job_id == job_id).order_by(JobEvent.id.desc())
    ).first()
    assert (event.action, event.from_status, event.detail) == (
        "dispute",
        status,
        {"reason": "Wall damaged"},
    )


def test_disputing_an_open_job_is_409(client, customer):
    job_id = _post(client, customer)
    response = client.post(
        f"/api/v1/jobs/{job_id}/dispute", json={"reason": "x"}, headers=customer.headers
    )
    assert _problem(response, 409)["state"] == "open"
