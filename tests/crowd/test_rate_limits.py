"""Rate limits: 429 problem+json with Retry-After past a limit, per user or per client address.

The limiter is shared by every app a test builds; each test here points it back at the session
app's storage (Redis on the PostgreSQL + Redis run, memory otherwise) and starts from zero.
"""

import pytest

from crowd.extensions import limiter
from tests.concurrency import run_concurrently
from tests.conftest import TEST_REDIS_URL
from tests.factories import PASSWORD, make_actor
from tests.jobs.conftest import post_job_via_api

PROBLEM = "application/problem+json"


@pytest.fixture
def limits(app, monkeypatch):
    """Call with rates by setting name (rate_limit_sign_in="2 per minute", …) to tighten them."""
    limiter.init_app(app)  # another app built by a test may have re-pointed the shared limiter
    limiter.reset()

    def tighten(**rates):
        settings = app.config["CROWD_SETTINGS"].model_copy(update=dict(**rates))
        monkeypatch.setitem(app.config, "CROWD_SETTINGS", settings)

    yield tighten
    limiter.reset()


def _assert_limited(response, rate: str):
    assert response.status_code == 429
    assert response.content_type == PROBLEM
    assert response.json["status"] == 429
    assert rate in response.json["detail"]
    assert int(response.headers["Retry-After"]) > 0
    assert response.headers["X-RateLimit-Remaining"] == "0"


def test_sign_in_past_the_limit_is_429_with_retry_after(client, customer, limits):
    limits(rate_limit_sign_in="2 per minute")
    body = {"email": customer.email, "password": PASSWORD}
    first = client.post("/api/v1/auth/tokens", json=body)
    assert first.status_code == 201
    assert first.headers["X-RateLimit-Limit"] == "2"
    assert first.headers["X-RateLimit-Remaining"] == "1"
    assert int(first.headers["X-RateLimit-Reset"]) > 0
    assert client.post("/api/v1/auth/tokens", json=body).status_code == 201
    _assert_limited(client.post("/api/v1/auth/tokens", json=body), "2 per 1 minute")


def test_failed_sign_ins_count_too(client, customer, limits):
    limits(rate_limit_sign_in="2 per minute")
    wrong = {"email": customer.email, "password": "not the password"}
    assert client.post("/api/v1/auth/tokens", json=wrong).status_code == 401
    assert client.post("/api/v1/auth/tokens", json=wrong).status_code == 401
    right = {"email": customer.email, "password": PASSWORD}
    assert client.post("/api/v1/auth/tokens", json=right).status_code == 429


def test_anonymous_limits_are_per_client_address(client, customer, limits):
    limits(rate_limit_sign_in="2 per minute")
    body = {"email": customer.email, "password": PASSWORD}
    for _ in range(3):
        client.post("/api/v1/auth/tokens", json=body)
    elsewhere = client.post(
        "/api/v1/auth/tokens", json=body, environ_base={"REMOTE_ADDR": "10.9.8.7"}
    )
    assert elsewhere.status_code == 201


def test_a_bogus_token_does_not_escape_the_sign_in_limit(client, customer, limits):
    limits(rate_limit_sign_in="2 per minute")
    body = {"email": customer.email, "password": PASSWORD}
    junk = {"Authorization": "Bearer crs_not-a-token"}
    statuses = [client.post("/api/v1/auth/tokens", json=body, headers=junk).status_code]
    statuses += [client.post("/api/v1/auth/tokens", json=body, headers=junk).status_code]
    statuses += [client.post("/api/v1/auth/tokens", json=body, headers=junk).status_code]
    assert statuses == [201, 201, 429]


def test_sign_up_is_limited(client, limits):
    limits(rate_limit_sign_up="1 per hour")
    body = {"email": "a@example.test", "password": PASSWORD, "display_name": "A"}
    assert client.post("/api/v1/accounts/customers", json=body).status_code == 202
    again = client.post("/api/v1/accounts/customers", json={**body, "email": "b@example.test"})
    _assert_limited(again, "1 per 1 hour")


def _key(name: str) -> dict:
    return {"name": name, "scopes": ["jobs:read"]}


def test_api_key_creation_is_limited_per_user(client, customer, other_customer, limits):
    limits(rate_limit_tokens="2 per hour")
    for name in ("ERP", "Shop"):
        created = client.post("/api/v1/auth/api-keys", json=_key(name), headers=customer.headers)
        assert created.status_code == 201
    third = client.post("/api/v1/auth/api-keys", json=_key("POS"), headers=customer.headers)
    _assert_limited(third, "2 per 1 hour")
    # Same address, another user: their own allowance.
    theirs = client.post("/api/v1/auth/api-keys", json=_key("ERP"), headers=other_customer.headers)
    assert theirs.status_code == 201


def test_job_posting_is_limited_per_customer(client, customer, other_customer, limits):
    limits(rate_limit_job_posting="2 per hour")
    assert post_job_via_api(client, customer).status_code == 201
    assert post_job_via_api(client, customer).status_code == 201
    _assert_limited(post_job_via_api(client, customer), "2 per 1 hour")
    assert post_job_via_api(client, other_customer).status_code == 201


def test_offer_acceptance_is_limited_per_member(client, member, other_member, limits):
    limits(rate_limit_offer_accept="2 per minute")
    # Every attempt counts, answered or not: hammering for offers is what the limit stops.
    for _ in range(2):
        assert client.post("/api/v1/offers/999999/accept", headers=member.headers).status_code in (
            403,
            404,
        )
    _assert_limited(
        client.post("/api/v1/offers/999999/accept", headers=member.headers), "2 per 1 minute"
    )
    assert client.post(
        "/api/v1/offers/999999/accept", headers=other_member.headers
    ).status_code in (
        403,
        404,
    )


def test_payment_endpoints_share_one_limit(client, admin, limits):
    limits(rate_limit_payments="1 per hour")
    first = client.post("/api/v1/payouts/runs", headers=admin.headers)
    assert first.status_code in (202, 409)
    # Another money endpoint: the same allowance is spent.
    fees = client.post("/api/v1/billing/monthly-fees/run", json={}, headers=admin.headers)
    _assert_limited(fees, "1 per 1 hour")


def test_payment_method_changes_are_limited(client, customer, limits):
    limits(rate_limit_payments="1 per hour")
    body = {"payment_method": "pm_card_visa"}
    first = client.put("/api/v1/me/customer/payment-method", json=body, headers=customer.headers)
    assert first.status_code == 200, first.json
    again = client.put("/api/v1/me/customer/payment-method", json=body, headers=customer.headers)
    _assert_limited(again, "1 per 1 hour")


def test_unauthenticated_calls_to_user_limited_endpoints_are_401_not_counted(
    client, customer, limits
):
    limits(rate_limit_job_posting="1 per hour")
    for _ in range(3):
        assert client.post("/api/v1/jobs", json={}).status_code == 401
    assert post_job_via_api(client, customer).status_code == 201


def test_other_endpoints_are_not_limited(client, customer, limits):
    limits(rate_limit_sign_in="1 per minute")
    for _ in range(5):
        assert client.get("/api/v1/me", headers=customer.headers).status_code == 200


def test_limit_documented_in_the_spec(client):
    spec = client.get("/api/v1/openapi.json").json
    for path, method in [
        ("/api/v1/auth/tokens", "post"),
        ("/api/v1/auth/api-keys", "post"),
        ("/api/v1/jobs", "post"),
        ("/api/v1/offers/{offer_id}/accept", "post"),
        ("/api/v1/me/customer/payment-method", "put"),
        ("/api/v1/payouts/runs", "post"),
    ]:
        assert "429" in spec["paths"][path][method]["responses"], f"{method} {path}"


@pytest.mark.skipif(not TEST_REDIS_URL, reason="needs Redis (set CROWD_TEST_REDIS_URL)")
def test_counters_live_in_redis_under_this_runs_prefix(app, client, customer, limits):
    import redis
    from limits.storage import RedisStorage

    limits(rate_limit_sign_in="5 per minute")
    assert isinstance(limiter.storage, RedisStorage)
    client.post("/api/v1/auth/tokens", json={"email": customer.email, "password": PASSWORD})
    prefix = app.config["CROWD_SETTINGS"].rate_limit_key_prefix
    assert prefix.startswith("crowd-test-")
    keys = redis.Redis.from_url(TEST_REDIS_URL).keys(f"{prefix}:*")
    assert any(b"accounts.sign_in" in key for key in keys), keys


@pytest.mark.committing
def test_concurrent_calls_get_exactly_the_allowance(app, limits, on_postgres):
    limits(rate_limit_sign_in="3 per minute")
    customer = make_actor("customer")
    body = {"email": customer.email, "password": PASSWORD}
    statuses = run_concurrently(
        app, 8, lambda client, _: client.post("/api/v1/auth/tokens", json=body).status_code
    )
    assert sorted(statuses) == [201] * 3 + [429] * 5


@pytest.fixture
def unreachable_limiter_storage(app, limits):
    """The limiter counting in a Redis nobody listens on (port 1 refuses connections)."""
    saved = {k: app.config.get(k) for k in ("RATELIMIT_STORAGE_URI", "RATELIMIT_STORAGE_OPTIONS")}
    app.config["RATELIMIT_STORAGE_URI"] = "redis://127.0.0.1:1/0"
    app.config["RATELIMIT_STORAGE_OPTIONS"] = {"socket_connect_timeout": 0.5}
    limiter.init_app(app)
    yield limits
    app.config.update(saved)
    limiter.init_app(app)


def test_with_redis_down_the_api_keeps_serving(client, customer, unreachable_limiter_storage):
    unreachable_limiter_storage(rate_limit_sign_in="1 per minute")
    body = {"email": customer.email, "password": PASSWORD}
    # Fail open: counting is impossible, so nobody is refused and nothing breaks.
    for _ in range(3):
        assert client.post("/api/v1/auth/tokens", json=body).status_code == 201
    assert client.get("/api/v1/me", headers=customer.headers).status_code == 200
