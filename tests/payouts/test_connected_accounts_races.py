"""Concurrent payout-account creation: one member, one connected account."""

import pytest
from sqlalchemy import func, select

from crowd.extensions import db
from payouts.models import ConnectedAccount, OfflineAccount
from tests.concurrency import run_concurrently
from tests.factories import make_actor

pytestmark = pytest.mark.committing

LINKS = {"refresh_url": "https://app.example/again", "return_url": "https://app.example/done"}


def test_simultaneous_first_posts_make_one_account(app):
    member = make_actor("member", country="DE")

    def post(client, i):
        response = client.post("/api/v1/me/payout-account", json=LINKS, headers=member.headers)
        return response.status_code, response.get_json()["account"]["account_id"]

    results = run_concurrently(app, 6, post)
    assert {status for status, _ in results} == {201}
    assert len({account_id for _, account_id in results}) == 1
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ConnectedAccount)) == 1
        assert db.session.scalar(select(func.count()).select_from(OfflineAccount)) == 1
