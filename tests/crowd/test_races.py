"""Concurrent requests: real commits, real connections, one outcome."""

import threading
import time

import pytest
from sqlalchemy import func, select, update

from accounts.models import AuthToken, User
from crowd.extensions import db
from tests.concurrency import run_concurrently
from tests.factories import PASSWORD, make_actor

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


def test_a_read_that_stamps_its_token_while_another_request_writes_answers_200(app):
    """A GET writes only the token's coarse last-used stamp. On SQLite it begins without the
    write lock (reads run alongside the writers) and cannot take it while another unit of work
    holds it: the stamp waits for a later request, the read still answers. On PostgreSQL the
    stamp waits for the row."""
    member = make_actor("member")
    db.session.commit()
    results = []

    with app.app_context(), db.engine.connect() as writer:
        # Another unit of work writing, here the very row the stamp would change.
        writer.execute(
            update(AuthToken)
            .where(AuthToken.user_id == member.user_id)
            .values(last_used_at=AuthToken.last_used_at)
        )
        reader = threading.Thread(
            target=lambda: results.append(
                app.test_client().get("/api/v1/me", headers=member.headers)
            )
        )
        reader.start()
        time.sleep(1.0)  # longer than every retry of a lost race put together
        writer.commit()
    reader.join(timeout=30)

    [response] = results
    assert response.status_code == 200, response.get_json()
