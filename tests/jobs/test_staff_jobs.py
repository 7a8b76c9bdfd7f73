"""Staff views of all jobs (filters, full detail with offers) and acting for the customer."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from crowd.core.db import utcnow
from crowd.extensions import db
from jobs.models import JobEvent, Offer
from tests.jobs.conftest import (
    active_member,
    drain_background,
    force_job_state,
    notifications_for,
    post_job_via_api,
)

CH_ADDRESS = {"postcode": "8001", "city": "Zürich", "country": "CH", "lat": 47.37, "lon": 8.54}


def _post(client, customer, **overrides) -> int:
    response = post_job_via_api(client, customer, **overrides)
    assert response.status_code == 201, response.json
    return response.json["id"]


def _ids(client, staff, **query) -> list[int]:
    response = client.get("/api/v1/staff/jobs", query_string=query, headers=staff.headers)
    assert response.status_code == 200, response.json
    return [item["id"] for item in response.json["items"]]


def _assign(job_id, member, *, status="assigned", starts_in=timedelta(days=2)):
    start = (utcnow() + starts_in).replace(microsecond=0)
    return force_job_state(
        job_id,
        status=status,
        assigned_member_id=member.profile_id,
        assigned_at=utcnow(),
        scheduled_start=start,
        scheduled_end=start + timedelta(hours=2),
    )


def test_staff_filter_jobs(client, cm, customer, other_customer):
    berlin = _post(client, customer)
    zurich = _post(client, customer, address=CH_ADDRESS, currency="CHF")
    smart_home = _post(
        client, other_customer, category="smart_home", skills=["smart_lighting_setup"]
    )
    member = active_member()
    _assign(berlin, member)
    force_job_state(zurich, escalated_at=utcnow(), escalation_reason="no candidates", status="open")
    force_job_state(smart_home, escalated_at=None)
    force_job_state(berlin, escalated_at=utcnow(), status="assigned")  # escalated, then assigned

    assert set(_ids(client, cm)) == {berlin, zurich, smart_home}
    assert _ids(client, cm, status="assigned") == [berlin]
    assert _ids(client, cm, escalated="true") == [zurich]
    assert set(_ids(client, cm, escalated="false")) == {berlin, smart_home}
    assert set(_ids(client, cm, customer_id=customer.profile_id)) == {berlin, zurich}
    assert _ids(client, cm, member_id=member.profile_id) == [berlin]
    assert _ids(client, cm, category="smart_home") == [smart_home]
    assert _ids(client, cm, category="no_such_category") == []
    assert _ids(client, cm, country="CH") == [zurich]
    assert _ids(client, cm, country="DE", customer_id=customer.profile_id) == [berlin]


def test_staff_updated_since_and_paging(client, admin, customer):
    ids = [_post(client, customer) for _ in range(3)]
    for hours_ago, job_id in zip((30, 20, 10), ids, strict=True):
        force_job_state(job_id, updated_at=utcnow() - timedelta(hours=hours_ago))
    since = (utcnow() - timedelta(hours=25)).isoformat()
    assert _ids(client, admin, updated_since=since) == ids[1:]
    first = client.get("/api/v1/staff/jobs?limit=2", headers=admin.headers).json
    assert [item["id"] for item in first["items"]] == ids[:2]
    assert first["page"]["total"] == 3
    rest = client.get(
        "/api/v1/staff/jobs",
        query_string={"limit": 2, "cursor": first["page"]["next_cursor"]},
        headers=admin.headers,
    ).json
    assert [item["id"] for item in rest["items"]] == ids[2:]


@pytest.mark.parametrize(
    "query", [{"status": "lost"}, {"country": "FR"}, {"escalated": "maybe"}, {"member_id": 0}]
)
def test_staff_filters_are_validated(client, cm, query):
    response = client.get("/api/v1/staff/jobs", query_string=query, headers=cm.headers)
    assert response.status_code == 422
    assert set(query) <= set(response.json["errors"]["query"])


def test_staff_job_detail_shows_customer_and_offers(client, cm, customer):
    job_id = _post(client, customer)
    first, second = active_member(display_name="Ada"), active_member(display_name="Bo")
    force_job_state(job_id, status="offered", wave=1)
    for member, status in ((first, "declined"), (second, "pending")):
        db.session.add(
            Offer(
                job_id=job_id,
                member_id=member.profile_id,
                wave=1,
                status=status,
                score=0.5,
                expires_at=utcnow() + timedelta(minutes=15),
                decline_reason="too far" if status == "declined" else None,
            )
        )
    db.session.commit()
    response = client.get(f"/api/v1/staff/jobs/{job_id}", headers=cm.headers)
    assert response.status_code == 200
    body = response.json
    assert body["customer"]["id"] == customer.profile_id
    assert body["wave"] == 1
    assert body["offers"]["counts"] == {"declined": 1, "pending": 1}
    assert [(o["member_display_name"], o["status"]) for o in body["offers"]["items"]] == [
        ("Ada", "declined"),
        ("Bo", "pending"),
    ]
    assert body["offers"]["items"][0]["decline_reason"] == "too far"
    assert body["allowed_actions"] == ["assign", "cancel", "offer"]


def test_staff_unknown_job_is_404(client, cm):
    response = client.get("/api/v1/staff/jobs/424242", headers=cm.headers)
    assert response.status_code == 404
    assert response.content_type == "application/problem+json"


STAFF_ENDPOINTS = [
    ("get", "/api/v1/staff/jobs"),
    ("get", "/api/v1/staff/jobs/{id}"),
    ("post", "/api/v1/staff/jobs/{id}/cancel"),
    ("post", "/api/v1/staff/jobs/{id}/confirm"),
]


@pytest.mark.parametrize("method, path", STAFF_ENDPOINTS)
def test_staff_endpoints_refuse_customers_and_members(client, customer, member, method, path):
    job_id = _post(client, customer)
    for actor in (customer, member):
        response = getattr(client, method)(
            path.format(id=job_id), json={"reason": "x"}, headers=actor.headers
        )
        assert response.status_code == 403
        assert response.content_type == "application/problem+json"


def test_staff_cancel_work_in_progress_free_and_both_sides_told(app, client, cm, customer):
    job_id = _post(client, customer)
    member = active_member()
    _assign(job_id, member, status="in_progress", starts_in=-timedelta(minutes=30))
    response = client.post(
        f"/api/v1/staff/jobs/{job_id}/cancel",
        json={"reason": "Safety issue on site"},
        headers=cm.headers,
    )
    assert response.status_code == 200
    body = response.json
    assert body["status"] == "cancelled"
    assert body["cancellation"]["cancelled_by"] == "staff"
    assert body["cancellation"]["fee_amount"] == 0
    event = db.session.scalars(
        select(JobEvent).where(JobEvent.job_id == job_id).order_by(JobEvent.id.desc())
    ).first()
    assert (event.actor, event.actor_user_id, event.from_status) == (
        "staff",
        cm.user_id,
        "in_progress",
    )
    drain_background(app)
    assert len(notifications_for(member.user_id, "job.cancelled")) == 1
    assert len(notifications_for(customer.user_id, "job.cancelled")) == 1


def test_staff_cancel_of_a_late_assigned_job_charges_no_fee(client, cm, customer):
    job_id = _post(client, customer)
    _assign(job_id, active_member(), starts_in=timedelta(hours=2))
    response = client.post(
        f"/api/v1/staff/jobs/{job_id}/cancel", json={"reason": "Member ill"}, headers=cm.headers
    )
    assert response.json["cancellation"]["fee_amount"] == 0


def test_staff_cannot_cancel_a_completed_job(client, cm, customer):
    job_id = _post(client, customer)
    _assign(job_id, active_member(), status="completed")
    response = client.post(
        f"/api/v1/staff/jobs/{job_id}/cancel", json={"reason": "x"}, headers=cm.headers
    )
    assert response.status_code == 409
    assert response.json["state"] == "completed"


def test_staff_confirm_on_the_customers_behalf(app, client, admin, customer):
    job_id = _post(client, customer)
    member = active_member()
    _assign(job_id, member, status="completed", starts_in=-timedelta(hours=3))
    force_job_state(job_id, completed_at=utcnow() - timedelta(hours=1))
    response = client.post(f"/api/v1/staff/jobs/{job_id}/confirm", headers=admin.headers)
    assert response.status_code == 200
    assert response.json["status"] == "confirmed"
    event = db.session.scalars(
        select(JobEvent).where(JobEvent.job_id == job_id).order_by(JobEvent.id.desc())
    ).first()
    assert (event.action, event.actor) == ("confirm", "staff")
    drain_background(app)
    assert len(notifications_for(customer.user_id, "job.confirmed")) == 1
    assert len(notifications_for(member.user_id, "job.confirmed")) == 1


def test_staff_confirm_of_an_open_job_is_409(client, cm, customer):
    job_id = _post(client, customer)
    response = client.post(f"/api/v1/staff/jobs/{job_id}/confirm", headers=cm.headers)
    assert response.status_code == 409
    assert response.json["state"] == "open"
