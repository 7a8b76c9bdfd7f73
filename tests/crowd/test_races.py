"""Concurrent requests: real commits, real connections, one outcome."""

import pytest
from sqlalchemy import func, select

from accounts.models import User
from tests.concurrency import run_concurrently
from tests.factories import PASSWORD

pytestmark = pytest.mark.committing

THREADS = 12


def _count_users(app, email):
    from crowd.extensions import db

    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(User).where(User.email == email))


def test_same_idempotency_key_at_once_creates_one_account(app):
    body = {"email": "race@example.test", "password": PASSWORD, "display_name": "Race"}

    def post(client, _):
        response = client.post(
            "/api/v1/accounts/customers", json=body, headers={"Idempotency-Key": "race-1"}
        )
        return response.status_code, response.get_json()

    results = run_concurrently(app, THREADS, post)
    assert _count_users(app, "race@example.test") == 1
    statuses = [status for status, _ in results]
    assert set(statuses) <= {202, 409}, statuses
    bodies = {str(body) for status, body in results if status == 202}
    assert len(bodies) == 1, "every success must answer the same"
    assert statuses.count(202) >= 1


def test_same_email_at_once_creates_one_account(app):
    def post(client, i):
        body = {"email": "same@example.test", "password": PASSWORD, "display_name": f"N{i}"}
        return client.post("/api/v1/accounts/members", json={**body, "kind": "private"}).status_code

    statuses = run_concurrently(app, THREADS, post)
    assert _count_users(app, "same@example.test") == 1
    # Nobody learns the address is taken: the losers answer as the winner did.
    assert statuses == [202] * THREADS
