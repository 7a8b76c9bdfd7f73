"""Account races, on both databases: concurrent wrong passwords all count, a reset works once."""

import pytest
from sqlalchemy import select

from accounts.models import AuthToken, SignInThrottle
from accounts.throttle import email_hash
from crowd.core import background
from crowd.extensions import db
from notifications.models import OutboundEmail
from tests.concurrency import run_concurrently
from tests.factories import PASSWORD, make_actor

pytestmark = [pytest.mark.committing]

THREADS = 12


def test_concurrent_wrong_passwords_are_all_counted(app, monkeypatch):
    # A threshold out of reach: every attempt is verified and counted, none refused as locked.
    settings = app.config["CROWD_SETTINGS"].model_copy(update=dict(sign_in_lockout_threshold=1000))
    monkeypatch.setitem(app.config, "CROWD_SETTINGS", settings)
    with app.app_context():
        customer = make_actor("customer")

    def guess(client, i):
        body = {"email": customer.email, "password": f"wrong guess number {i}"}
        return client.post("/api/v1/auth/tokens", json=body).status_code

    assert run_concurrently(app, THREADS, guess) == [401] * THREADS
    with app.app_context():
        throttle = db.session.get(SignInThrottle, email_hash(customer.email))
        assert throttle.failures == THREADS


def test_concurrent_wrong_passwords_lock_at_the_threshold(app):
    with app.app_context():
        customer = make_actor("customer")

    def guess(client, i):
        body = {"email": customer.email, "password": f"wrong guess number {i}"}
        return client.post("/api/v1/auth/tokens", json=body).status_code

    statuses = run_concurrently(app, THREADS, guess)
    assert set(statuses) <= {401, 429}
    with app.app_context():
        throttle = db.session.get(SignInThrottle, email_hash(customer.email))
        # Every attempt that was let through was counted; the lock engaged at the 5th.
        assert throttle.failures == statuses.count(401) >= 5
        assert throttle.locked_until is not None
        right = app.test_client().post(
            "/api/v1/auth/tokens", json={"email": customer.email, "password": PASSWORD}
        )
        assert right.status_code == 429


def test_a_reset_link_redeemed_at_once_works_once(app):
    with app.app_context():
        customer = make_actor("customer")
        client = app.test_client()
        assert (
            client.post("/api/v1/auth/password-resets", json={"email": customer.email}).status_code
            == 202
        )
        # With Redis the commit handed the sender to a worker: send what is due here.
        background.run_periodic("notifications.send_due")
        body = db.session.scalar(
            select(OutboundEmail.body).where(OutboundEmail.user_id == customer.user_id)
        )
        (code,) = [word for word in body.split() if word.startswith("crp_")]

    def redeem(client, i):
        body = {"token": code, "password": f"fresh strong password {i} lantern"}
        return client.post("/api/v1/auth/password-resets/redeem", json=body).status_code

    statuses = run_concurrently(app, THREADS, redeem)
    assert sorted(statuses) == [204] + [422] * (THREADS - 1)
    winner = statuses.index(204)
    with app.app_context():
        client = app.test_client()
        body = {"email": customer.email, "password": f"fresh strong password {winner} lantern"}
        assert client.post("/api/v1/auth/tokens", json=body).status_code == 201
        revoked = db.session.scalars(
            select(AuthToken.revoked_at).where(AuthToken.user_id == customer.user_id)
        ).all()
        assert sum(1 for at in revoked if at is None) == 1  # only the new sign-in's token
