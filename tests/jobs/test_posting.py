"""Posting a job: a valid order opens, every broken rule is a 422 naming the field."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from crowd.core.background import OutboxMessage
from crowd.extensions import db
from customers.models import BlockedMember, CustomerAddress
from jobs.models import Job, JobEvent, JobSkill, JobWindow
from jobs.posting import hourly_estimate
from tests.factories import make_actor
from tests.jobs.conftest import active_member, future, job_body, post_job_via_api


def _window(start, hours=4):
    return {"starts_at": start.isoformat(), "ends_at": (start + timedelta(hours=hours)).isoformat()}


def _error_at(response, *path):
    """The messages at `path` under errors.json of a 422 problem."""
    assert response.status_code == 422, response.get_json()
    assert response.content_type == "application/problem+json"
    node = response.get_json()["errors"]["json"]
    for key in path:
        assert key in node, (path, response.get_json()["errors"])
        node = node[key]
    return node


def _saved_address(customer, **fields):
    values = {
        "label": "Home",
        "street": "Bahnhofstrasse 1",
        "postcode": "8001",
        "city": "Zürich",
        "country": "CH",
        "lat": 47.37,
        "lon": 8.54,
        "is_default": False,
        **fields,
    }
    address = CustomerAddress(customer_id=customer.profile_id, **values)
    db.session.add(address)
    db.session.commit()
    return address


def _jobs(db_session):
    return db_session.scalar(select(func.count()).select_from(Job))


# --- the happy path -------------------------------------------------------------------------


def test_customer_posts_a_job_and_it_opens(client, customer, db_session):
    start = future(72)
    response = post_job_via_api(
        client,
        customer,
        skills=["tv_wall_mount", "soundbar_install"],
        windows=[_window(start + timedelta(days=1)), _window(start)],
        min_level=2,
    )
    assert response.status_code == 201
    body = response.json
    assert body["status"] == "open"
    assert body["category"] == "tv_audio"
    assert body["skills"] == ["soundbar_install", "tv_wall_mount"]
    assert body["price"] == {"kind": "fixed", "amount": 12000, "rate": None, "currency": "EUR"}
    assert body["min_level"] == 2
    assert body["allowed_actions"] == ["cancel"]
    # Windows come back in time order, whatever order they were sent in.
    assert [w["starts_at"] for w in body["windows"]] == [
        start.isoformat(),
        (start + timedelta(days=1)).isoformat(),
    ]
    job = db_session.get(Job, body["id"])
    assert job.customer_id == customer.profile_id
    assert (job.postcode, job.country, job.lat) == ("10117", "DE", 52.52)
    assert db_session.scalar(select(func.count()).where(JobSkill.job_id == job.id)) == 2
    assert db_session.scalar(select(func.count()).where(JobWindow.job_id == job.id)) == 2
    post = db_session.scalar(
        select(JobEvent).where(JobEvent.job_id == job.id, JobEvent.action == "post")
    )
    assert (post.from_status, post.to_status, post.actor) == (None, "open", "customer")
    assert post.actor_user_id == customer.user_id


def test_posting_queues_the_first_dispatch_wave(client, customer, db_session):
    job_id = post_job_via_api(client, customer).json["id"]
    messages = db_session.scalars(
        select(OutboxMessage).where(OutboxMessage.task == "jobs.dispatch_wave")
    ).all()
    assert [m.kwargs["job_id"] for m in messages] == [job_id]


def test_hourly_price_is_rate_times_duration_rounded_half_up(client, customer):
    response = post_job_via_api(
        client, customer, pricing={"kind": "hourly", "rate": 4999}, duration_minutes=50
    )
    assert response.status_code == 201
    # 4999 × 50 / 60 = 4165.83… → 4166
    assert response.json["price"] == {
        "kind": "hourly",
        "amount": 4166,
        "rate": 4999,
        "currency": "EUR",
    }


def test_hourly_estimate_rounds_halves_up():
    assert hourly_estimate(3, 30) == 2  # 1.5 → 2
    assert hourly_estimate(5, 18) == 2  # 1.5 → 2
    assert hourly_estimate(4, 15) == 1  # exactly 1
    assert hourly_estimate(1, 15) == 0  # 0.25 → 0, refused by posting (below)
    assert hourly_estimate(4500, 90) == 6750


def test_hourly_estimate_that_rounds_to_nothing_is_refused(client, customer):
    response = post_job_via_api(
        client, customer, pricing={"kind": "hourly", "rate": 1}, duration_minutes=15
    )
    assert _error_at(response, "pricing")


def test_posting_with_a_saved_address_copies_it(client, customer):
    address = _saved_address(customer)
    response = client.post(
        "/api/v1/jobs",
        json=_without_address(address_id=address.id, currency="CHF"),
        headers=customer.headers,
    )
    assert response.status_code == 201, response.json
    assert response.json["address"] == {
        "address_id": address.id,
        "street": "Bahnhofstrasse 1",
        "postcode": "8001",
        "city": "Zürich",
        "country": "CH",
        "lat": 47.37,
        "lon": 8.54,
    }
    assert response.json["price"]["currency"] == "CHF"


def _without_address(**overrides):
    body = job_body(**overrides)
    del body["address"]
    return body


def test_posting_without_an_address_uses_the_default_one(client, customer):
    _saved_address(customer, label="Office", is_default=False, postcode="8002")
    default = _saved_address(customer, is_default=True)
    response = client.post(
        "/api/v1/jobs", json=_without_address(currency="CHF"), headers=customer.headers
    )
    assert response.status_code == 201, response.json
    assert response.json["address"]["address_id"] == default.id


def test_posting_without_any_address_is_422_on_address(client, customer):
    response = client.post("/api/v1/jobs", json=_without_address(), headers=customer.headers)
    assert _error_at(response, "address")


def test_another_customers_address_is_refused(client, customer, other_customer, db_session):
    theirs = _saved_address(other_customer)
    response = client.post(
        "/api/v1/jobs",
        json=_without_address(address_id=theirs.id, currency="CHF"),
        headers=customer.headers,
    )
    assert _error_at(response, "address_id")
    assert _jobs(db_session) == 0


def test_currency_must_match_the_saved_address_country(client, customer):
    address = _saved_address(customer)  # in CH
    response = client.post(
        "/api/v1/jobs",
        json=_without_address(address_id=address.id, currency="EUR"),
        headers=customer.headers,
    )
    assert _error_at(response, "currency") == ["jobs in CH are priced in CHF"]


# --- each rule, one field -----------------------------------------------------------------


def _overlapping():
    start = future(30)
    return [_window(start, hours=4), _window(start + timedelta(hours=3), hours=4)]


CH_ADDRESS = {"postcode": "8001", "city": "Zürich", "country": "CH", "lat": 47.37, "lon": 8.54}

INVALID = {
    "unknown category": ({"category": "spaceships"}, ("category",)),
    "unknown skill": ({"skills": ["tv_wall_mount", "warp_drive"]}, ("skills",)),
    "skill of another category": ({"skills": ["router_config"]}, ("skills",)),
    "no skills": ({"skills": []}, ("skills",)),
    "duplicate skills": ({"skills": ["tv_wall_mount", "tv_wall_mount"]}, ("skills",)),
    "empty title": ({"title": "   "}, ("title",)),
    "missing description": ({"description": None}, ("description",)),
    "device without kind": ({"device": {"brand": "Sony"}}, ("device", "kind")),
    "device unknown field": ({"device": {"kind": "tv", "colour": "red"}}, ("device", "colour")),
    "unknown top-level field": ({"colour": "red"}, ("colour",)),
    "past window": ({"windows": [_window(future(-3))]}, ("windows",)),
    "window already running": ({"windows": [_window(future(-1), hours=4)]}, ("windows",)),
    "overlapping windows": ({"windows": _overlapping()}, ("windows",)),
    "window ends before it starts": (
        {"windows": [{"starts_at": future(50).isoformat(), "ends_at": future(49).isoformat()}]},
        ("windows", "0", "ends_at"),
    ),
    "window longer than 14 days": (
        {"windows": [_window(future(30), hours=14 * 24 + 1)]},
        ("windows", "0", "ends_at"),
    ),
    "naive window time": (
        {"windows": [{"starts_at": "2031-01-01T10:00:00", "ends_at": "2031-01-01T12:00:00"}]},
        ("windows", "0", "starts_at"),
    ),
    "no windows": ({"windows": []}, ("windows",)),
    "eleven windows": (
        {"windows": [_window(future(30 + 24 * i), hours=2) for i in range(11)]},
        ("windows",),
    ),
    "duration too short": ({"duration_minutes": 10}, ("duration_minutes",)),
    "duration too long": ({"duration_minutes": 1441}, ("duration_minutes",)),
    "duration fits no window": (
        {"windows": [_window(future(30), hours=1)], "duration_minutes": 90},
        ("duration_minutes",),
    ),
    "zero fixed price": ({"pricing": {"kind": "fixed", "amount": 0}}, ("pricing", "amount")),
    "negative fixed price": ({"pricing": {"kind": "fixed", "amount": -5}}, ("pricing", "amount")),
    "fractional price": ({"pricing": {"kind": "fixed", "amount": 99.5}}, ("pricing", "amount")),
    "price as string": ({"pricing": {"kind": "fixed", "amount": "120"}}, ("pricing", "amount")),
    "fixed without amount": ({"pricing": {"kind": "fixed"}}, ("pricing", "amount")),
    "hourly without rate": ({"pricing": {"kind": "hourly", "amount": 5}}, ("pricing", "rate")),
    "zero hourly rate": ({"pricing": {"kind": "hourly", "rate": 0}}, ("pricing", "rate")),
    "fixed with a rate": (
        {"pricing": {"kind": "fixed", "amount": 100, "rate": 5}},
        ("pricing", "rate"),
    ),
    "unknown pricing kind": ({"pricing": {"kind": "auction", "amount": 5}}, ("pricing", "kind")),
    "unsupported currency": ({"currency": "USD"}, ("currency",)),
    "CHF for a German address": ({"currency": "CHF"}, ("currency",)),
    "EUR for a Swiss address": ({"address": CH_ADDRESS}, ("currency",)),
    "unsupported country": (
        {"address": {**CH_ADDRESS, "country": "FR", "postcode": "75001"}},
        ("address", "country"),
    ),
    "German postcode of 4 digits": (
        {"address": {**CH_ADDRESS, "country": "DE", "postcode": "1011"}},
        ("address", "postcode"),
    ),
    "Austrian postcode of 5 digits": (
        {"address": {**CH_ADDRESS, "country": "AT", "postcode": "10100"}},
        ("address", "postcode"),
    ),
    "latitude out of range": ({"address": {**CH_ADDRESS, "lat": 91}}, ("address", "lat")),
    "address and address_id": ({"address_id": 1}, ("address",)),
    "min level 0": ({"min_level": 0}, ("min_level",)),
    "unknown preferred member": ({"preferred_member_id": 999999}, ("preferred_member_id",)),
}


@pytest.mark.parametrize("overrides, path", INVALID.values(), ids=INVALID.keys())
def test_invalid_order_is_422_naming_the_field(client, customer, db_session, overrides, path):
    response = post_job_via_api(client, customer, **overrides)
    assert _error_at(response, *path)
    assert _jobs(db_session) == 0


def test_inactive_preferred_member_is_refused(client, customer):
    applicant = make_actor("member")
    response = post_job_via_api(client, customer, preferred_member_id=applicant.profile_id)
    assert _error_at(response, "preferred_member_id") == ["no active member with this id"]


def test_blocked_preferred_member_is_refused(client, customer):
    blocked = active_member()
    db.session.add(BlockedMember(customer_id=customer.profile_id, member_id=blocked.profile_id))
    db.session.commit()
    response = post_job_via_api(client, customer, preferred_member_id=blocked.profile_id)
    assert _error_at(response, "preferred_member_id") == ["you blocked this member"]


def test_active_preferred_member_is_kept(client, customer):
    preferred = active_member()
    response = post_job_via_api(client, customer, preferred_member_id=preferred.profile_id)
    assert response.status_code == 201
    assert response.json["preferred_member_id"] == preferred.profile_id


# --- idempotency and who may post ---------------------------------------------------------


def test_posting_twice_with_one_idempotency_key_creates_one_job(client, customer, db_session):
    body = job_body()
    headers = {**customer.headers, "Idempotency-Key": "order-7"}
    first = client.post("/api/v1/jobs", json=body, headers=headers)
    again = client.post("/api/v1/jobs", json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json["id"] == first.json["id"]
    assert again.headers["Idempotent-Replayed"] == "true"
    assert _jobs(db_session) == 1
    dispatches = select(func.count()).where(OutboxMessage.task == "jobs.dispatch_wave")
    assert db_session.scalar(dispatches) == 1


def test_same_idempotency_key_with_another_body_is_422(client, customer, db_session):
    headers = {**customer.headers, "Idempotency-Key": "order-8"}
    assert client.post("/api/v1/jobs", json=job_body(), headers=headers).status_code == 201
    other = client.post("/api/v1/jobs", json=job_body(title="Another job"), headers=headers)
    assert other.status_code == 422
    assert _jobs(db_session) == 1


def test_customer_api_key_can_post_a_job(client, customer):
    body = {"name": "ERP", "scopes": ["jobs:write"]}
    created = client.post("/api/v1/auth/api-keys", json=body, headers=customer.headers)
    key = created.json["token"]
    response = client.post("/api/v1/jobs", json=job_body(), headers={"X-API-Key": key})
    assert response.status_code == 201
    assert response.json["status"] == "open"


@pytest.mark.parametrize("role", ["member", "community_manager", "admin"])
def test_only_customers_post_jobs(client, role, db_session):
    actor = make_actor(role)
    response = post_job_via_api(client, actor)
    assert response.status_code == 403
    assert response.content_type == "application/problem+json"
    assert _jobs(db_session) == 0


def test_posting_without_credentials_is_401(client):
    response = client.post("/api/v1/jobs", json=job_body())
    assert response.status_code == 401
    assert response.content_type == "application/problem+json"
