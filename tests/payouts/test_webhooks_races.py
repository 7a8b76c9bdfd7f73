"""Concurrent webhook deliveries: one stored event, the newest state wins."""

import time
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from crowd.extensions import db
from payouts.models import ConnectedAccount, WebhookEvent
from tests.concurrency import run_concurrently
from tests.factories import make_actor
from tests.stripe_fake import post_event, stripe_event

pytestmark = [
    pytest.mark.committing,
    pytest.mark.usefixtures("webhook_settings"),
]


def _account() -> ConnectedAccount:
    member = make_actor("member", country="DE")
    row = ConnectedAccount(
        member_id=member.profile_id,
        provider="stripe",
        provider_account_id=f"acct_race{member.profile_id}",
        country="DE",
        payouts_enabled=False,
        charges_enabled=False,
        details_submitted=False,
    )
    db.session.add(row)
    db.session.commit()
    return row


def _updated(account_id: str, *, enabled: bool, created: int) -> dict:
    obj = {"id": account_id, "object": "account", "payouts_enabled": enabled}
    return stripe_event("account.updated", obj, created=created, account=account_id)


def test_one_event_delivered_at_once_many_times_is_stored_and_applied_once(app):
    account = _account()
    event = _updated(account.provider_account_id, enabled=True, created=int(time.time()))
    results = run_concurrently(app, 6, lambda client, i: post_event(client, event).get_json())
    assert sorted(r["duplicate"] for r in results) == [False] + [True] * 5
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(WebhookEvent)) == 1
        assert db.session.scalar(select(WebhookEvent.attempts)) == 1
        assert db.session.get(ConnectedAccount, account.id).payouts_enabled is True


def test_concurrent_account_updates_leave_the_newest_state(app):
    account = _account()
    now = int(time.time())
    # The newest (created last) says enabled; the others alternate.
    events = [
        _updated(account.provider_account_id, enabled=(i % 2 == 1), created=now - 80 + 10 * i)
        for i in range(8)
    ]
    assert events[-1]["data"]["object"]["payouts_enabled"] is True
    statuses = run_concurrently(
        app, len(events), lambda client, i: post_event(client, events[i]).status_code
    )
    assert statuses == [200] * len(events)
    with app.app_context():
        row = db.session.get(ConnectedAccount, account.id)
        assert row.payouts_enabled is True
        assert row.updated_from_event_at == datetime.fromtimestamp(now - 10, UTC)
