"""Concurrent deliveries of bank payout events and reconciliations: booked once, consistent."""

import pytest
from sqlalchemy import func, select

from crowd.core.db import commit, utcnow
from crowd.extensions import db
from payouts import bank_payouts, ledger
from payouts.models import BankPayout, BankPayoutItem, WebhookEvent
from tests.concurrency import run_concurrently, task_unit
from tests.jobs.conftest import drain_background
from tests.payouts.test_payout_run_stripe import payable, run_now, stripe_payee, the_payout
from tests.stripe_fake import post_event, stripe_event

pytestmark = [
    pytest.mark.committing,
    pytest.mark.usefixtures("ledger_sound", "stripe_settings"),
]


@pytest.fixture
def sent(app, client, stripe_fake):
    actor = stripe_payee(client, stripe_fake)
    run_now(app)
    return actor, the_payout(actor.profile_id)


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_one_bank_payout_event_delivered_many_times_at_once_books_once(
    app, client, stripe_fake, sent
):
    actor, payout = sent
    po = stripe_fake.make_bank_payout(actor.account_id, [payout.provider_transfer_id])
    event = stripe_event("payout.paid", po, account=actor.account_id)
    results = run_concurrently(app, 6, lambda c, i: post_event(c, event).get_json())
    assert sorted(r["duplicate"] for r in results) == [False] + [True] * 5
    drain_background(app)
    db.session.expire_all()
    assert (count(WebhookEvent), count(BankPayout), count(BankPayoutItem)) == (1, 1, 1)
    assert the_payout(actor.profile_id).status == "paid"
    assert ledger.balance("payouts:in_transit", "EUR") == 0


def test_different_events_of_one_bank_payout_at_once_record_it_once(app, client, stripe_fake, sent):
    actor, payout = sent
    po = stripe_fake.make_bank_payout(actor.account_id, [payout.provider_transfer_id])
    events = [stripe_event("payout.paid", po, account=actor.account_id) for _ in range(4)]
    results = run_concurrently(app, 4, lambda c, i: post_event(c, events[i]).get_json())
    assert sorted(r["status"] for r in results) == ["ignored"] * 3 + ["processed"]
    drain_background(app)
    db.session.expire_all()
    assert (count(BankPayout), count(BankPayoutItem)) == (1, 1)
    assert the_payout(actor.profile_id).status == "paid"


def test_paid_and_failed_of_one_bank_payout_at_once_end_in_transit_with_the_money_once(
    app, client, stripe_fake, sent
):
    actor, payout = sent
    po = stripe_fake.make_bank_payout(actor.account_id, [payout.provider_transfer_id])
    # Reconciled first (its items known), then both news race.
    first = stripe_event("payout.paid", po, account=actor.account_id)
    post_event(client, first)
    drain_background(app)
    failed = stripe_fake.fail_bank_payout(po["id"], "account_closed", "Closed.")
    events = [
        stripe_event("payout.paid", po, account=actor.account_id),
        stripe_event("payout.failed", failed, account=actor.account_id),
    ]
    run_concurrently(app, 2, lambda c, i: post_event(c, events[i]).status_code)
    drain_background(app)
    db.session.expire_all()
    payout = the_payout(actor.profile_id)
    assert payout.status == "in_transit" and payout.bank_returns == 1
    assert payable(actor.profile_id) == 0
    assert ledger.balance("payouts:in_transit", "EUR") == 8000


def test_two_parts_of_a_split_transfer_reconciled_at_once_pay_the_payout_once(
    app, client, stripe_fake, sent
):
    actor, payout = sent
    tr = payout.provider_transfer_id
    parts = [
        stripe_fake.make_bank_payout(actor.account_id, {tr: 5000}),
        stripe_fake.make_bank_payout(actor.account_id, {tr: None}),
    ]
    # Recorded as the webhook records them, without their reconciliation (which the webhook
    # would queue, and run at once on the embedded default): the threads below run it.
    rows = [
        BankPayout(
            provider_payout_id=part["id"],
            account=actor.account_id,
            amount=part["amount"],
            currency="EUR",
            status="paid",
            event_at=utcnow().replace(microsecond=0),
        )
        for part in parts
    ]
    db.session.add_all(rows)
    db.session.commit()
    ids = [row.id for row in rows]

    def reconcile(_client, i):
        with task_unit(app):
            bank_payouts.reconcile_bank_payout(ids[i])
            commit()

    run_concurrently(app, 2, reconcile)
    db.session.expire_all()
    payout = the_payout(actor.profile_id)
    assert payout.status == "paid"
    assert count(BankPayoutItem) == 2
    assert ledger.balance("payouts:in_transit", "EUR") == 0
    drain_background(app)  # the queued reconciliations find it done
    db.session.expire_all()
    assert count(BankPayoutItem) == 2
    assert the_payout(actor.profile_id).status == "paid"
