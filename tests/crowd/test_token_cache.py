"""The token cache (accounts.authentication): a used token's principal is answered without the
database, and stops being answered the moment its token, or its user, changes."""

from __future__ import annotations

import pytest
from sqlalchemy import update

from accounts.authentication import principal_for
from accounts.models import User
from crowd.core.errors import Unauthorized
from crowd.core.stamps import renew_now
from tests.crowd.test_account_lifecycle import NEW_PASSWORD
from tests.factories import PASSWORD
from tests.jobs.conftest import active_member
from tests.sql_recorder import sql_statements

API = "/api/v1"


def me(client, token) -> int:
    return client.get(f"{API}/me", headers={"Authorization": f"Bearer {token}"}).status_code


def cached(app, token) -> bool:
    """Whether the token's principal comes from the cache (no statement sent)."""
    with app.test_request_context(), sql_statements() as sent:
        principal_for(token)
    return not sent


def warm(app, client, token) -> None:
    """Use the token until its principal is cached."""
    assert me(client, token) == 200
    assert me(client, token) == 200
    assert cached(app, token)


def sign_in(client, email, password=PASSWORD) -> str:
    response = client.post(f"{API}/auth/tokens", json={"email": email, "password": password})
    assert response.status_code == 201, response.get_json()
    return response.get_json()["token"]


def test_the_first_uses_read_the_database_then_the_cache_answers(app, client, customer):
    with app.test_request_context():
        with sql_statements() as sent:
            first = principal_for(customer.token)
        assert sent  # learns whose token it is
        with sql_statements() as sent:
            second = principal_for(customer.token)
        assert sent  # reads the user's stamp first, then the database, and caches
        with sql_statements() as sent:
            third = principal_for(customer.token)
        assert sent == []
    assert first == second == third
    assert third.customer_id is not None and third.role == "customer"


def test_signing_out_stops_a_cached_token_at_once(app, client, customer):
    warm(app, client, customer.token)
    tokens = client.get(f"{API}/auth/tokens", headers=customer.headers).get_json()["items"]
    revoked = client.delete(f"{API}/auth/tokens/{tokens[0]['id']}", headers=customer.headers)
    assert revoked.status_code == 200
    assert me(client, customer.token) == 401
    with app.test_request_context(), pytest.raises(Unauthorized):
        principal_for(customer.token)


def test_revoking_one_token_leaves_the_others_working(app, client, customer):
    other = sign_in(client, customer.email)
    warm(app, client, customer.token)
    warm(app, client, other)
    tokens = client.get(f"{API}/auth/tokens", headers=customer.headers).get_json()["items"]
    newer = max(t["id"] for t in tokens)  # the second sign-in's
    assert client.delete(f"{API}/auth/tokens/{newer}", headers=customer.headers).status_code == 200
    assert me(client, other) == 401
    assert me(client, customer.token) == 200


def test_a_password_change_stops_every_other_cached_token(app, client, customer):
    other = sign_in(client, customer.email)
    warm(app, client, other)
    warm(app, client, customer.token)
    body = {"current_password": PASSWORD, "new_password": NEW_PASSWORD}
    changed = client.post(f"{API}/me/password", json=body, headers=customer.headers)
    assert changed.status_code == 204
    assert me(client, other) == 401
    assert me(client, customer.token) == 200


def test_deactivation_stops_a_cached_token(app, client, cm, customer):
    warm(app, client, customer.token)
    response = client.post(
        f"{API}/users/{customer.user_id}/deactivation",
        json={"reason": "Fraud"},
        headers=cm.headers,
    )
    assert response.status_code == 200
    assert me(client, customer.token) == 401


def test_a_member_suspended_is_stopped_even_when_cached(app, client, cm):
    member = active_member()
    warm(app, client, member.token)
    url = f"{API}/members/{member.profile_id}/sanctions"
    suspended = client.post(url, json={"kind": "suspend", "reason": "Fraud"}, headers=cm.headers)
    assert suspended.status_code == 201, suspended.get_json()
    assert me(client, member.token) == 401


def test_a_changed_user_row_is_seen_at_once(app, client, db_session, customer):
    warm(app, client, customer.token)
    user = db_session.get(User, customer.user_id)
    user.disabled_at = user.created_at
    db_session.commit()
    assert me(client, customer.token) == 401


def test_a_bulk_update_of_users_drops_every_cached_principal(app, client, db_session, customer):
    warm(app, client, customer.token)
    db_session.execute(update(User).where(User.id == customer.user_id).values(role="member"))
    db_session.commit()
    assert not cached(app, customer.token)
    # Now a member without a member profile: the customer endpoints refuse.
    response = client.get(f"{API}/me/customer", headers=customer.headers)
    assert response.status_code == 403


def test_a_language_chosen_is_seen_at_once(app, client, customer):
    warm(app, client, customer.token)
    saved = client.patch(f"{API}/me", json={"locale": "de"}, headers=customer.headers)
    assert saved.status_code == 200, saved.get_json()
    with app.test_request_context():
        assert principal_for(customer.token).locale == "de"


def test_a_lost_stamp_only_costs_a_lookup(app, client, customer):
    warm(app, client, customer.token)
    with app.test_request_context():
        renew_now(f"auth:user:{customer.user_id}")
    assert not cached(app, customer.token)
    assert me(client, customer.token) == 200


class _UnreachableStore:
    """The stamp store as Redis answers when it is down: every call fails."""

    def __getattr__(self, name):
        def fail(*args, **kwargs):
            raise ConnectionError("stamp store unreachable")

        return fail


def test_a_sign_out_while_the_stamp_store_is_down_is_refused_with_503_and_changes_nothing(
    app, client, customer, monkeypatch
):
    tokens = client.get(f"{API}/auth/tokens", headers=customer.headers).get_json()["items"]
    monkeypatch.setitem(app.extensions, "crowd_stamps", _UnreachableStore())

    refused = client.delete(f"{API}/auth/tokens/{tokens[0]['id']}", headers=customer.headers)

    assert refused.status_code == 503
    assert refused.headers["Content-Type"] == "application/problem+json"
    assert "try again" in refused.get_json()["detail"]
    monkeypatch.undo()
    # Nothing was revoked: the token still works, from the database.
    assert me(client, customer.token) == 200
    listed = client.get(f"{API}/auth/tokens", headers=customer.headers).get_json()["items"]
    assert [t["id"] for t in listed] == [t["id"] for t in tokens]


def test_me_with_a_cached_token_reads_only_the_user(app, client, customer, member):
    """`GET /me` answers the caller's profile ids from the principal (read with the token):
    with the token cached, the user's row is the one statement sent."""
    for actor, field in ((customer, "customer_id"), (member, "member_id")):
        warm(app, client, actor.token)
        with sql_statements() as sent:
            response = client.get(f"{API}/me", headers=actor.headers)
        assert response.status_code == 200
        body = response.get_json()
        assert body[field] == actor.profile_id and body["id"] == actor.user_id
        queries = [s for s in sent if not s.startswith(("SAVEPOINT", "RELEASE", "ROLLBACK"))]
        assert len(queries) == 1, queries  # the test's isolation adds savepoints
