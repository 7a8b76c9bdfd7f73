"""Sign-in and sign-up are rate limited per client address: 429 with Retry-After."""

import dataclasses

import pytest

from crowd.extensions import limiter
from tests.factories import PASSWORD


@pytest.fixture
def tight_limits(app, monkeypatch):
    settings = dataclasses.replace(
        app.config["CROWD_SETTINGS"],
        rate_limit_sign_in="2 per minute",
        rate_limit_sign_up="1 per hour",
    )
    monkeypatch.setitem(app.config, "CROWD_SETTINGS", settings)
    limiter.reset()
    yield
    limiter.reset()


def test_sign_in_past_the_limit_is_429_with_retry_after(client, customer, tight_limits):
    body = {"email": customer.email, "password": PASSWORD}
    assert client.post("/api/v1/auth/tokens", json=body).status_code == 201
    assert client.post("/api/v1/auth/tokens", json=body).status_code == 201
    blocked = client.post("/api/v1/auth/tokens", json=body)
    assert blocked.status_code == 429
    assert blocked.content_type == "application/problem+json"
    assert int(blocked.headers["Retry-After"]) > 0
    assert "2 per 1 minute" in blocked.json["detail"]


def test_limits_are_per_client_address(client, customer, tight_limits):
    body = {"email": customer.email, "password": PASSWORD}
    for _ in range(3):
        client.post("/api/v1/auth/tokens", json=body)
    elsewhere = client.post(
        "/api/v1/auth/tokens", json=body, environ_base={"REMOTE_ADDR": "10.9.8.7"}
    )
    assert elsewhere.status_code == 201


def test_sign_up_is_limited(client, tight_limits):
    body = {"email": "a@example.test", "password": PASSWORD, "display_name": "A"}
    assert client.post("/api/v1/accounts/customers", json=body).status_code == 201
    again = client.post("/api/v1/accounts/customers", json={**body, "email": "b@example.test"})
    assert again.status_code == 429


def test_other_endpoints_are_not_limited_by_sign_in(client, customer, tight_limits):
    for _ in range(5):
        assert client.get("/api/v1/me", headers=customer.headers).status_code == 200
