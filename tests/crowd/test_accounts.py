"""Sign-up, sign-in, tokens, API keys, staff accounts and role checks."""

from datetime import timedelta

from sqlalchemy import select

from accounts.models import AuthToken, User
from crowd.core.db import utcnow
from members.models import Member, MemberStatusChange
from tests.factories import PASSWORD

PROBLEM = "application/problem+json"


def _register_customer(client, **overrides):
    body = {"email": "anna@example.test", "password": PASSWORD, "display_name": "Anna"}
    body.update(overrides)
    return client.post("/api/v1/accounts/customers", json=body)


def _sign_in(client, email, password=PASSWORD):
    return client.post("/api/v1/auth/tokens", json={"email": email, "password": password})


def test_customer_signs_up_and_signs_in(client, db_session):
    response = _register_customer(client, email="Anna@Example.TEST")
    # No ids: the answer is the same for an address that has an account (see
    # test_account_lifecycle.py); the client signs in and reads /me.
    assert response.status_code == 202
    assert set(response.json) == {"email", "detail"}
    assert response.json["email"] == "anna@example.test"

    token = _sign_in(client, "anna@example.test")
    assert token.status_code == 201
    assert token.json["token"].startswith("crs_")
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token.json['token']}"})
    assert me.status_code == 200
    assert me.json["role"] == "customer" and me.json["email"] == "anna@example.test"
    assert me.json["customer_id"] is not None and "password" not in me.json


def test_password_and_token_are_stored_hashed(client, db_session):
    _register_customer(client)
    secret = _sign_in(client, "anna@example.test").json["token"]
    user = db_session.scalar(select(User).where(User.email == "anna@example.test"))
    assert PASSWORD not in user.password_hash and user.password_hash.startswith("$argon2")
    stored = db_session.scalars(select(AuthToken.token_hash)).all()
    assert secret not in stored
    assert all(len(digest) == 64 for digest in stored)


def test_member_registers_as_applicant_with_history(client, db_session):
    response = client.post(
        "/api/v1/accounts/members",
        json={
            "email": "max@example.test",
            "password": PASSWORD,
            "display_name": "Max",
            "kind": "professional",
            "country": "DE",
            "postcode": "10115",
        },
    )
    assert response.status_code == 202
    member = db_session.scalar(
        select(Member).join(User, User.id == Member.user_id).where(User.email == "max@example.test")
    )
    assert member.status == "applicant"
    history = db_session.scalars(
        select(MemberStatusChange).where(MemberStatusChange.member_id == member.id)
    ).all()
    assert [(h.from_status, h.to_status) for h in history] == [(None, "applicant")]


def test_duplicate_email_creates_nothing_and_answers_like_a_new_one(client, db_session):
    first = _register_customer(client)
    again = _register_customer(client, email="ANNA@example.test", display_name="Other")
    assert again.status_code == first.status_code == 202
    assert again.json == first.json
    users = db_session.scalars(select(User).where(User.email == "anna@example.test")).all()
    assert [u.display_name for u in users] == ["Anna"]


def test_staff_creation_with_a_taken_email_is_409_naming_the_field(client, admin, cm):
    body = {"email": cm.email, "password": PASSWORD, "display_name": "X", "role": "admin"}
    response = client.post("/api/v1/accounts/staff", json=body, headers=admin.headers)
    assert response.status_code == 409
    assert response.content_type == PROBLEM
    assert response.json["errors"]["json"]["email"]
    assert response.json["type"] == "https://crowd.example/problems/email-taken"


def test_registration_validation_names_fields(client):
    response = _register_customer(client, email="not-an-email", password="short")
    assert response.status_code == 422
    assert response.content_type == PROBLEM
    assert set(response.json["errors"]["json"]) == {"email", "password"}
    assert response.json["status"] == 422 and response.json["title"]


def test_unknown_fields_are_rejected(client):
    response = _register_customer(client, role="admin")
    assert response.status_code == 422
    assert "role" in response.json["errors"]["json"]


def test_business_customer_needs_company(client):
    response = _register_customer(client, kind="business")
    assert response.status_code == 422
    assert "company_name" in response.json["errors"]["json"]


def test_wrong_password_and_unknown_email_look_the_same(client):
    _register_customer(client)
    wrong = _sign_in(client, "anna@example.test", "wrong password!")
    unknown = _sign_in(client, "nobody@example.test")
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json["detail"] == unknown.json["detail"]
    assert wrong.content_type == PROBLEM


def test_missing_malformed_and_unknown_tokens_are_401(client):
    assert client.get("/api/v1/me").status_code == 401
    assert client.get("/api/v1/me", headers={"Authorization": "Basic abc"}).status_code == 401
    response = client.get("/api/v1/me", headers={"Authorization": "Bearer crs_nope"})
    assert response.status_code == 401
    assert response.content_type == PROBLEM


def test_revoked_token_stops_working(client, customer):
    tokens = client.get("/api/v1/auth/tokens", headers=customer.headers).json["items"]
    assert len(tokens) == 1 and "token" not in tokens[0] and "token_hash" not in tokens[0]
    revoked = client.delete(f"/api/v1/auth/tokens/{tokens[0]['id']}", headers=customer.headers)
    assert revoked.status_code == 200
    assert revoked.json["active"] is False
    assert client.get("/api/v1/me", headers=customer.headers).status_code == 401


def test_expired_token_is_401(client, db_session, customer):
    token = db_session.scalar(select(AuthToken).where(AuthToken.user_id == customer.user_id))
    token.expires_at = utcnow() - timedelta(seconds=1)
    db_session.commit()
    assert client.get("/api/v1/me", headers=customer.headers).status_code == 401


def test_cannot_revoke_someone_elses_token(client, customer, other_customer):
    theirs = client.get("/api/v1/auth/tokens", headers=other_customer.headers).json["items"][0]
    response = client.delete(f"/api/v1/auth/tokens/{theirs['id']}", headers=customer.headers)
    assert response.status_code == 404
    assert client.get("/api/v1/me", headers=other_customer.headers).status_code == 200


def test_customer_api_key_works_and_is_listed_without_secret(client, customer):
    created = client.post(
        "/api/v1/auth/api-keys",
        json={"name": "ERP", "expires_in_days": 30, "scopes": ["jobs:read"]},
        headers=customer.headers,
    )
    assert created.status_code == 201
    key = created.json["token"]
    assert key.startswith("crk_") and created.json["kind"] == "api_key"
    assert created.json["scopes"] == ["jobs:read"]
    assert client.get("/api/v1/jobs", headers={"Authorization": f"Bearer {key}"}).status_code == 200
    assert client.get("/api/v1/jobs", headers={"X-API-Key": key}).status_code == 200
    listed = client.get("/api/v1/auth/tokens", headers=customer.headers).json["items"]
    assert {item["kind"] for item in listed} == {"session", "api_key"}
    assert all(key not in str(item) for item in listed)
    assert any(item["hint"] == key[:10] for item in listed)


def test_only_customers_get_api_keys(client, member):
    body = {"name": "x", "scopes": ["jobs:read"]}
    response = client.post("/api/v1/auth/api-keys", json=body, headers=member.headers)
    assert response.status_code == 403
    assert response.content_type == PROBLEM


def test_list_includes_revoked_only_on_request(client, customer):
    body = {"name": "old", "scopes": ["jobs:read"]}
    key = client.post("/api/v1/auth/api-keys", json=body, headers=customer.headers).json
    client.delete(f"/api/v1/auth/tokens/{key['id']}", headers=customer.headers)
    active = client.get("/api/v1/auth/tokens", headers=customer.headers).json["items"]
    everything = client.get(
        "/api/v1/auth/tokens?include_inactive=true", headers=customer.headers
    ).json["items"]
    assert key["id"] not in [t["id"] for t in active]
    assert key["id"] in [t["id"] for t in everything]


def test_admin_creates_community_manager(client, admin):
    response = client.post(
        "/api/v1/accounts/staff",
        json={
            "email": "cm@crowd.test",
            "password": PASSWORD,
            "display_name": "Carla",
            "role": "community_manager",
        },
        headers=admin.headers,
    )
    assert response.status_code == 201
    assert response.json["role"] == "community_manager"
    assert _sign_in(client, "cm@crowd.test").status_code == 201


def test_non_admins_cannot_create_staff(client, cm, customer, member):
    body = {"email": "x@crowd.test", "password": PASSWORD, "display_name": "X", "role": "admin"}
    for actor in (cm, customer, member):
        assert (
            client.post("/api/v1/accounts/staff", json=body, headers=actor.headers).status_code
            == 403
        )
    assert client.post("/api/v1/accounts/staff", json=body).status_code == 401


def test_staff_role_must_be_staff(client, admin):
    body = {"email": "x@crowd.test", "password": PASSWORD, "display_name": "X", "role": "customer"}
    response = client.post("/api/v1/accounts/staff", json=body, headers=admin.headers)
    assert response.status_code == 422
    assert "role" in response.json["errors"]["json"]


def test_disabled_account_cannot_sign_in_or_use_tokens(client, db_session, customer):
    user = db_session.get(User, customer.user_id)
    user.disabled_at = utcnow()
    db_session.commit()
    assert client.get("/api/v1/me", headers=customer.headers).status_code == 401
    refused = _sign_in(client, customer.email)
    assert refused.status_code == 403
    assert refused.json["type"].endswith("/account-deactivated")
    # Without the right password a deactivated account looks like any other.
    assert _sign_in(client, customer.email, "wrong password!").status_code == 401
