"""Idempotency-Key: replay, conflict, scoping, expiry."""

import json
from datetime import timedelta

from sqlalchemy import func, select

from accounts.models import User
from crowd.core.db import utcnow
from crowd.core.idempotency import IdempotencyRecord, without_secrets
from tests.factories import PASSWORD

URL = "/api/v1/accounts/customers"


def _body(**overrides):
    return {"email": "ida@example.test", "password": PASSWORD, "display_name": "Ida", **overrides}


def _users(db_session, email="ida@example.test"):
    return db_session.scalar(select(func.count()).select_from(User).where(User.email == email))


def test_same_key_same_body_replays_first_response(client, db_session):
    first = client.post(URL, json=_body(), headers={"Idempotency-Key": "k-1"})
    again = client.post(URL, json=_body(), headers={"Idempotency-Key": "k-1"})
    assert first.status_code == again.status_code == 202
    assert again.json == first.json
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert _users(db_session) == 1


def test_key_order_of_json_fields_does_not_matter(client):
    first = client.post(URL, json=_body(), headers={"Idempotency-Key": "k-2"})
    reordered = dict(reversed(list(_body().items())))
    again = client.post(URL, json=reordered, headers={"Idempotency-Key": "k-2"})
    assert again.status_code == 202 and again.json == first.json
    assert again.headers["Idempotent-Replayed"] == "true"


def test_same_key_different_body_is_422(client, db_session):
    client.post(URL, json=_body(), headers={"Idempotency-Key": "k-3"})
    response = client.post(
        URL, json=_body(email="other@example.test"), headers={"Idempotency-Key": "k-3"}
    )
    assert response.status_code == 422
    assert response.content_type == "application/problem+json"
    assert "Idempotency-Key" in response.json["errors"]["headers"]
    assert response.json["type"] == "https://crowd.example/problems/idempotency-key-reused"
    assert _users(db_session, "other@example.test") == 0


def test_without_key_a_retry_is_a_new_request(client, db_session):
    # Sign-up answers a taken email like a new one (202); the retry is run, not replayed.
    assert client.post(URL, json=_body()).status_code == 202
    retry = client.post(URL, json=_body())
    assert retry.status_code == 202 and "Idempotent-Replayed" not in retry.headers
    assert _users(db_session) == 1


def test_failed_request_is_not_recorded_and_can_be_retried(client, db_session):
    bad = client.post(URL, json=_body(password="short"), headers={"Idempotency-Key": "k-4"})
    assert bad.status_code == 422
    assert db_session.scalar(select(func.count()).select_from(IdempotencyRecord)) == 0
    # A corrected request with the same key after a validation failure goes through.
    good = client.post(URL, json=_body(), headers={"Idempotency-Key": "k-4"})
    assert good.status_code == 202 and _users(db_session) == 1


def test_keys_are_scoped_per_caller(client, customer, other_customer):
    body = {"name": "ERP", "scopes": ["jobs:read"]}
    mine = client.post(
        "/api/v1/auth/api-keys", json=body, headers={**customer.headers, "Idempotency-Key": "same"}
    )
    theirs = client.post(
        "/api/v1/auth/api-keys",
        json=body,
        headers={**other_customer.headers, "Idempotency-Key": "same"},
    )
    assert mine.status_code == theirs.status_code == 201
    assert mine.json["id"] != theirs.json["id"]
    assert mine.json["user"]["id"] == customer.user_id
    assert theirs.json["user"]["id"] == other_customer.user_id


def test_expired_key_can_be_reused(client, db_session):
    first = client.post(URL, json=_body(), headers={"Idempotency-Key": "k-5"})
    record = db_session.scalar(select(IdempotencyRecord).where(IdempotencyRecord.key == "k-5"))
    record.expires_at = utcnow() - timedelta(seconds=1)
    db_session.commit()
    again = client.post(
        URL, json=_body(email="new@example.test"), headers={"Idempotency-Key": "k-5"}
    )
    assert first.status_code == again.status_code == 202
    assert "Idempotent-Replayed" not in again.headers
    assert _users(db_session, "new@example.test") == 1


def test_overlong_or_blank_key_is_400(client):
    for key in ("x" * 256, "   "):
        response = client.post(URL, json=_body(), headers={"Idempotency-Key": key})
        assert response.status_code == 400
        assert "Idempotency-Key" in response.json["errors"]["headers"]


def test_purge_removes_only_expired_records(app, client, db_session):
    from crowd.core.idempotency import purge_expired

    client.post(URL, json=_body(), headers={"Idempotency-Key": "keep"})
    client.post(URL, json=_body(email="b@example.test"), headers={"Idempotency-Key": "drop"})
    old = db_session.scalar(select(IdempotencyRecord).where(IdempotencyRecord.key == "drop"))
    old.expires_at = utcnow() - timedelta(hours=1)
    db_session.commit()
    assert purge_expired() == 1
    keys = db_session.scalars(select(IdempotencyRecord.key)).all()
    assert keys == ["keep"]


def test_secret_fields_are_nulled_in_the_stored_copy_nested_ones_too():
    body = json.dumps({"token": "crk_x", "link": {"url": "https://x", "id": 3}, "n": 1})
    stored = json.loads(without_secrets(body, ("token", "link.url", "absent", "n.deeper")))
    assert stored == {"token": None, "link": {"url": None, "id": 3}, "n": 1}
    assert without_secrets(body, ()) == body
