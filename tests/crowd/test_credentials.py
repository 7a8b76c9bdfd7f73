"""Credentials at rest and API-key scopes: no secret is stored, and a key does only its job."""

from __future__ import annotations

import base64
import hashlib
import json

import pytest
from sqlalchemy import func, select

from accounts import service as accounts
from accounts.models import AuthToken
from crowd.core.auth import API_KEY_OPERATIONS, API_KEY_SCOPES, Principal, SessionRequired
from crowd.core.idempotency import IdempotencyRecord
from crowd.extensions import db
from customers.models import Customer
from tests.api.spec import METHODS
from tests.concurrency import run_concurrently
from tests.factories import PASSWORD
from tests.jobs.conftest import job_body
from tests.secret_scan import assert_secret_nowhere, find_secret

API = "/api/v1"
PROBLEMS = "https://crowd.example/problems/"
ALL_SCOPES = list(API_KEY_SCOPES)


def _create_key(client, actor, scopes=ALL_SCOPES, headers=None, name="ERP"):
    return client.post(
        f"{API}/auth/api-keys",
        json={"name": name, "scopes": scopes},
        headers={**actor.headers, **(headers or {})},
    )


def _key_headers(client, actor, scopes=ALL_SCOPES) -> dict:
    created = _create_key(client, actor, scopes)
    assert created.status_code == 201, created.json
    return {"Authorization": f"Bearer {created.json['token']}"}


def _tokens(db_session, user_id) -> int:
    query = select(func.count()).select_from(AuthToken).where(AuthToken.user_id == user_id)
    return db_session.scalar(query)


def _refused(response, type_slug: str) -> None:
    assert response.status_code == 403, response.json
    assert response.content_type == "application/problem+json"
    assert response.json["type"] == PROBLEMS + type_slug


# --- secrets at rest ----------------------------------------------------------------------------


def test_api_key_secret_is_stored_nowhere(client, db_session, customer):
    created = _create_key(client, customer, headers={"Idempotency-Key": "erp-1"})
    assert created.status_code == 201
    secret = created.json["token"]
    assert secret.startswith("crk_")
    record = db_session.scalar(select(IdempotencyRecord).where(IdempotencyRecord.key == "erp-1"))
    stored = json.loads(record.response_body)
    assert stored["token"] is None and stored["id"] == created.json["id"]
    assert_secret_nowhere(secret)


def test_session_token_secret_is_stored_nowhere(client, customer):
    # An Idempotency-Key on sign-in is ignored: sign-in is not a retry-safe creation.
    body = {"email": customer.email, "password": PASSWORD}
    created = client.post(f"{API}/auth/tokens", json=body, headers={"Idempotency-Key": "s-1"})
    assert created.status_code == 201
    assert created.json["token"].startswith("crs_")
    assert_secret_nowhere(created.json["token"])
    assert_secret_nowhere(customer.token)


def test_replay_answers_without_the_secret_and_creates_nothing(client, db_session, customer):
    headers = {"Idempotency-Key": "erp-2"}
    first = _create_key(client, customer, headers=headers)
    again = _create_key(client, customer, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.headers["Idempotent-Secrets-Withheld"] == "token"
    assert "Idempotent-Secrets-Withheld" not in first.headers
    assert again.json["token"] is None
    assert {**again.json, "token": first.json["token"]} == first.json
    assert _tokens(db_session, customer.user_id) == 2  # the session and one key
    # The key the first answer showed works; the replay leaked nothing that could.
    assert client.get(f"{API}/jobs", headers={"X-API-Key": first.json["token"]}).status_code == 200
    other = _create_key(client, customer, headers=headers, name="Shop")
    assert other.status_code == 422


def test_password_in_a_request_is_not_hashed_plainly_at_rest(client, db_session):
    body = {"email": "ida@example.test", "password": "a long secret 4711", "display_name": "Ida"}
    response = client.post(f"{API}/accounts/customers", json=body, headers={"Idempotency-Key": "i"})
    assert response.status_code == 202
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"))
    plain = hashlib.sha256(f"POST {API}/accounts/customers?\n{canonical}".encode()).hexdigest()
    record = db_session.scalar(select(IdempotencyRecord).where(IdempotencyRecord.key == "i"))
    assert record.fingerprint != plain
    assert_secret_nowhere(body["password"])


@pytest.mark.parametrize("encode", ["plain", "base64", "json", "no-prefix"])
def test_the_scan_finds_a_stored_secret(db_session, customer, encode):
    """The scan can fail: a secret written in any of its forms is found, and where."""
    secret = "crk_" + "Zq9_x-" * 7
    stored = {
        "plain": secret,
        "base64": base64.b64encode(secret.encode()).decode(),
        "json": json.dumps({"token": secret}),
        "no-prefix": secret[4:],
    }[encode]
    assert find_secret(secret) == []
    profile = db_session.scalar(select(Customer).where(Customer.user_id == customer.user_id))
    profile.company_name = stored[:200]
    with pytest.raises(AssertionError, match="customers.company_name"):
        assert_secret_nowhere(secret)


def _success_schema(operation: dict, spec: dict) -> dict:
    for status, response in operation["responses"].items():
        if status.startswith("2"):
            schema = response.get("content", {}).get("application/json", {}).get("schema", {})
            while "$ref" in schema:
                schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
            return schema
    return {}


def test_every_idempotent_answer_with_a_secret_withholds_it(client):
    """An operation whose answer carries a secret stores and replays it only as null."""
    spec = client.get(f"{API}/openapi.json").json
    secretive = ("token", "secret", "password", "api_key")
    checked = []
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method not in METHODS:
                continue
            names = [p["name"] for p in operation.get("parameters", [])]
            if "Idempotency-Key" not in names:
                continue
            fields = _success_schema(operation, spec).get("properties", {})
            secrets = {name for name in fields if any(word in name for word in secretive)}
            withheld = set(operation.get("x-idempotency-withheld", []))
            assert secrets <= withheld, f"{method.upper()} {path} replays {secrets - withheld}"
            checked += [f"{method.upper()} {path}"] if secrets else []
    assert f"POST {API}/auth/api-keys" in checked


# --- scopes -------------------------------------------------------------------------------------


def test_api_key_cannot_create_another_key(client, db_session, customer):
    key = _key_headers(client, customer)
    before = _tokens(db_session, customer.user_id)
    response = client.post(
        f"{API}/auth/api-keys", json={"name": "Child", "scopes": ALL_SCOPES}, headers=key
    )
    _refused(response, "session-required")
    assert _tokens(db_session, customer.user_id) == before


def test_api_key_cannot_list_credentials(client, customer):
    key = _key_headers(client, customer)
    _refused(client.get(f"{API}/auth/tokens", headers=key), "session-required")


def test_api_key_cannot_revoke_sessions_or_itself(client, db_session, customer):
    key = _key_headers(client, customer)
    tokens = db_session.scalars(select(AuthToken).where(AuthToken.user_id == customer.user_id))
    for token in list(tokens):
        _refused(client.delete(f"{API}/auth/tokens/{token.id}", headers=key), "session-required")
    assert client.get(f"{API}/me", headers=customer.headers).status_code == 200
    assert client.get(f"{API}/jobs", headers=key).status_code == 200


def test_revoking_a_key_leaves_nothing_of_it_working(client, db_session, customer):
    created = _create_key(client, customer)
    key = {"X-API-Key": created.json["token"]}
    # The key could not have made a child: the only way was refused.
    _refused(
        client.post(f"{API}/auth/api-keys", json={"name": "x", "scopes": ALL_SCOPES}, headers=key),
        "session-required",
    )
    revoked = client.delete(f"{API}/auth/tokens/{created.json['id']}", headers=customer.headers)
    assert revoked.status_code == 200
    assert client.get(f"{API}/jobs", headers=key).status_code == 401
    keys = select(func.count()).where(
        AuthToken.user_id == customer.user_id,
        AuthToken.kind == "api_key",
        AuthToken.revoked_at.is_(None),
    )
    assert db_session.scalar(keys) == 0


def test_api_key_without_the_scope_is_refused_naming_it(client, db_session, customer):
    key = _key_headers(client, customer, scopes=["jobs:read"])
    response = client.post(f"{API}/jobs", json=job_body(), headers=key)
    _refused(response, "scope-missing")
    assert response.json["scope"] == "jobs:write"
    assert client.get(f"{API}/jobs", headers=key).status_code == 200
    payment = client.get(f"{API}/me/customer/payment-method", headers=key)
    _refused(payment, "scope-missing")
    assert payment.json["scope"] == "payments:read"


def test_api_key_is_refused_on_the_account(client, customer):
    key = _key_headers(client, customer)
    _refused(client.get(f"{API}/me", headers=key), "session-required")
    _refused(client.patch(f"{API}/me/customer", json={}, headers=key), "session-required")


def test_session_tokens_are_unscoped_and_keys_list_their_scopes(client, customer):
    _create_key(client, customer, scopes=["payments:read", "jobs:read"])
    listed = client.get(f"{API}/auth/tokens", headers=customer.headers).json["items"]
    by_kind = {item["kind"]: item for item in listed}
    assert by_kind["session"]["scopes"] is None
    assert by_kind["api_key"]["scopes"] == ["jobs:read", "payments:read"]


@pytest.mark.parametrize(
    "scopes",
    [None, [], ["jobs:read", "jobs:read"], ["jobs:admin"], ["credentials:write"], "jobs:read"],
)
def test_scopes_are_validated(client, db_session, customer, scopes):
    body = {"name": "ERP"} if scopes is None else {"name": "ERP", "scopes": scopes}
    response = client.post(f"{API}/auth/api-keys", json=body, headers=customer.headers)
    assert response.status_code == 422
    assert "scopes" in response.json["errors"]["json"]
    assert _tokens(db_session, customer.user_id) == 1


def test_credential_services_refuse_an_api_key_principal(customer):
    """Belt and braces: the services refuse API keys even if an endpoint table let one in."""
    key = Principal(user_id=customer.user_id, role="customer", token_id=1, via="api_key")
    key = Principal(**{**key.__dict__, "scopes": frozenset(ALL_SCOPES)})
    with pytest.raises(SessionRequired):
        accounts.create_api_key(actor=key, name="x", scopes=ALL_SCOPES)
    with pytest.raises(SessionRequired):
        accounts.list_credentials(actor=key)
    with pytest.raises(SessionRequired):
        accounts.revoke_credential(actor=key, token_id=1)


def test_key_operations_are_real_and_never_credentials(app, client):
    """Every operation the table opens to keys exists and is documented with its scope."""
    rules = {
        f"{method} {rule.rule}"
        for rule in app.url_map.iter_rules()
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    assert set(API_KEY_OPERATIONS) <= rules
    assert set(API_KEY_OPERATIONS.values()) == set(API_KEY_SCOPES)
    for operation in API_KEY_OPERATIONS:
        path = operation.split(" ", 1)[1]
        assert not path.startswith((f"{API}/auth", f"{API}/accounts")) and path != f"{API}/me"
    spec = client.get(f"{API}/openapi.json").json
    documented = {
        f"{method.upper()} {path}": operation["x-api-key-scope"]
        for path, item in spec["paths"].items()
        for method, operation in item.items()
        if method in METHODS and "x-api-key-scope" in operation
    }
    assert sorted(documented.values()) == sorted(API_KEY_OPERATIONS.values())
    assert documented[f"POST {API}/jobs"] == "jobs:write"


# --- revoking everything ------------------------------------------------------------------------


def test_revoke_all_credentials_stops_every_token_but_the_one_kept(client, db_session, customer):
    key = _key_headers(client, customer)
    kept = accounts.sign_in(email=customer.email, password=PASSWORD)
    db_session.commit()
    assert accounts.revoke_all_credentials(customer.user_id, except_token_id=kept.token.id) == 2
    db_session.commit()
    assert client.get(f"{API}/me", headers=customer.headers).status_code == 401
    assert client.get(f"{API}/jobs", headers=key).status_code == 401
    kept_headers = {"Authorization": f"Bearer {kept.secret}"}
    assert client.get(f"{API}/me", headers=kept_headers).status_code == 200
    assert accounts.revoke_all_credentials(customer.user_id) == 1
    db_session.commit()
    assert client.get(f"{API}/me", headers=kept_headers).status_code == 401


# --- a race on one Idempotency-Key (PostgreSQL) -------------------------------------------------


@pytest.mark.committing
def test_same_key_at_once_creates_one_api_key_and_stores_no_secret(app, customer):
    def post(client, _):
        response = _create_key(client, customer, headers={"Idempotency-Key": "race-key"})
        return response.status_code, response.get_json(), dict(response.headers)

    results = run_concurrently(app, 8, post)
    created = [(body, headers) for status, body, headers in results if status == 201]
    assert {status for status, _, _ in results} <= {201, 409}, results
    assert len({body["id"] for body, _ in created}) == 1
    secrets = [body["token"] for body, _ in created if body["token"] is not None]
    assert len(secrets) == 1, "the secret is shown once, to the request that created the key"
    for body, headers in created:
        if body["token"] is None:
            assert headers["Idempotent-Secrets-Withheld"] == "token"
    with app.app_context():
        keys = select(func.count()).where(
            AuthToken.user_id == customer.user_id, AuthToken.kind == "api_key"
        )
        assert db.session.scalar(keys) == 1
        assert_secret_nowhere(secrets[0])
